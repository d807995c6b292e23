package mail

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"gatehouse/app/mail/mailtest"
	"gatehouse/apperr"
	"gatehouse/views/email"
)

var tomAndJerry = email.Brand{
	Name:            "Tom & Jerry",
	PrimaryColor:    "#aa3300",
	ButtonTextColor: "#ffffff",
	SiteURL:         "https://tom-and-jerry.example.com/",
}

func TestTestMessage(t *testing.T) {
	ctx := context.Background()

	t.Run("ok", func(t *testing.T) {
		m, err := TestMessage(ctx, tomAndJerry, "Gatehouse <no-reply@gatehouse.test>", "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		const wantText = "This is a test message from Gatehouse for Tom & Jerry; if you can read it, mail delivery works.\n\nSent by Tom & Jerry\n"
		if m.Text != wantText {
			t.Errorf("text = %q, want %q", m.Text, wantText)
		}
		if m.Subject != "Gatehouse test message for Tom & Jerry" {
			t.Errorf("subject = %q", m.Subject)
		}
		if !strings.Contains(m.HTML, "for Tom &amp; Jerry; if you can read it") || !strings.Contains(m.HTML, "#aa3300") {
			t.Errorf("html lacks the escaped name or the brand colour:\n%s", m.HTML)
		}
		if m.TenantID != uuid.Nil || m.From != "Gatehouse <no-reply@gatehouse.test>" || m.To != "alice@example.com" {
			t.Errorf("envelope = %v %q %q", m.TenantID, m.From, m.To)
		}
	})

	t.Run("delivered", func(t *testing.T) {
		m, err := TestMessage(ctx, tomAndJerry, "Gatehouse <no-reply@gatehouse.test>", "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		srv := mailtest.Start(t)
		if err := mustSMTP(t, srv.URL()).DeliverMail(ctx, m); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, "alice@example.com", wait)
		if got.Text != m.Text || got.HTML != m.HTML || got.Subject != m.Subject {
			t.Errorf("received %+v", got)
		}
	})

	t.Run("bad recipient", func(t *testing.T) {
		_, err := TestMessage(ctx, tomAndJerry, "no-reply@gatehouse.test", "not-an-address")
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Field != "to" {
			t.Errorf("err = %v, want apperr.Invalid on to", err)
		}
	})
}

func TestRenderText(t *testing.T) {
	// The name looks like markup and like an entity; plain text must show
	// it exactly as typed.
	b := email.Brand{Name: `<b>Fish &amp; "Chips"</b> & 'Co'`}
	got, err := RenderText(context.Background(), email.TestText(b))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "for "+b.Name+"; if") || !strings.HasSuffix(got, "Sent by "+b.Name+"\n") {
		t.Errorf("text = %q", got)
	}
}

func TestRender(t *testing.T) {
	tenant := uuid.New()
	m, err := Render(context.Background(), Envelope{TenantID: tenant, From: "a@acme.test", To: "b@example.com", Subject: "Hi"},
		email.TestHTML(tomAndJerry), email.TestText(tomAndJerry))
	if err != nil {
		t.Fatal(err)
	}
	if m.TenantID != tenant || m.HTML == "" || m.Text == "" {
		t.Errorf("got %+v", m)
	}
	_, err = Render(context.Background(), Envelope{From: "a@acme.test", To: "b@example.com", Subject: "Hi\r\nBcc: eve@evil.test"},
		email.TestHTML(tomAndJerry), email.TestText(tomAndJerry))
	if e, ok := apperr.As(err); !ok || e.Field != "subject" {
		t.Errorf("err = %v, want a refused subject", err)
	}
}
