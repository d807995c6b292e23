package main

import (
	"net/smtp"
	"strings"
	"testing"
)

// TestSinkCountsACopyUnderOneMessageIDOnce sends the sink, with net/smtp,
// a reset mail, a second copy of it under the same Message-ID (a worker
// killed between SMTP's acceptance and its mark) and another reset mail
// under a new one (a real second mail): the copy is reported, not counted.
func TestSinkCountsACopyUnderOneMessageIDOnce(t *testing.T) {
	sink, err := startMailSink()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.close()
	addr := strings.TrimPrefix(sink.url(), "smtp://")
	send := func(id string) {
		t.Helper()
		msg := "From: shop@acme.test\r\nTo: ann@example.com\r\nSubject: Reset your password\r\nMessage-ID: " + id + "\r\n\r\nHello\r\n"
		if err := smtp.SendMail(addr, nil, "shop@acme.test", []string{"Ann@example.com"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	send("<task.one@acme.test>")
	send("<task.one@acme.test>")
	if n, again := sink.count("ann@example.com", "Reset your "); n != 1 || again != 1 {
		t.Fatalf("after a copy: %d distinct, %d again; want 1 and 1", n, again)
	}
	send("<task.two@acme.test>")
	if n, again := sink.count("ann@example.com", "Reset your "); n != 2 || again != 1 {
		t.Fatalf("after a second mail: %d distinct, %d again; want 2 and 1", n, again)
	}
	if n, _ := sink.count("ann@example.com", "Welcome"); n != 0 {
		t.Fatalf("%d mails under another subject; want 0", n)
	}
}
