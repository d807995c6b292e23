package mail

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/jobs"
)

// mustOutbox returns an outbox in a directory that does not exist yet, with a
// clock the test controls.
func mustOutbox(t *testing.T) (*Outbox, *time.Time) {
	t.Helper()
	now := pinned.Add(123456789 * time.Nanosecond)
	o := NewOutbox(filepath.Join(t.TempDir(), "outbox"))
	o.now = func() time.Time { return now }
	return o, &now
}

func TestOutboxDeliverMail(t *testing.T) {
	ctx := context.Background()

	t.Run("ok", func(t *testing.T) {
		o, _ := mustOutbox(t)
		if err := o.DeliverMail(ctx, sample()); err != nil {
			t.Fatal(err)
		}
		dirInfo, err := os.Stat(o.dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := dirInfo.Mode().Perm(); perm != 0o700 {
			t.Errorf("dir mode = %v, want 0700", perm)
		}
		files, err := os.ReadDir(o.dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 1 {
			t.Fatalf("dir holds %v, want one file and no temp files", files)
		}
		const want = "20261128T160203.123456789Z-alice@example.com.eml"
		if files[0].Name() != want {
			t.Errorf("name = %q, want %q", files[0].Name(), want)
		}
		info, err := files[0].Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("file mode = %v, want 0600", perm)
		}

		raw, err := o.Read(want)
		if err != nil {
			t.Fatal(err)
		}
		p := mustParse(t, raw)
		if p.header.Get("Subject") != sample().Subject || len(p.parts) != 2 {
			t.Errorf("stored message: subject %q, parts %v", p.header.Get("Subject"), p.parts)
		}
		if id := p.header.Get("Message-Id"); !strings.HasSuffix(id, "@acme.test>") {
			t.Errorf("Message-ID = %q, want the From domain", id)
		}

		entries, err := o.List(10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("List = %v", entries)
		}
		e := entries[0]
		if e.Name != want || e.To != "alice@example.com" || e.Subject != sample().Subject || !e.Time.Equal(o.now()) {
			t.Errorf("entry = %+v", e)
		}
	})

	t.Run("hostile recipient stays inside the dir", func(t *testing.T) {
		o, _ := mustOutbox(t)
		for _, to := range []string{
			`"../../../etc/cron.d/x"@evil.test`,
			`"..\\..\\x/y"@evil.test`,
			`"/abs/path"@evil.test`,
			`"` + strings.Repeat("a/", 200) + `"@evil.test`,
		} {
			m := sample()
			m.To = to
			if err := o.DeliverMail(ctx, m); err != nil {
				t.Fatalf("%s: %v", to, err)
			}
		}
		parent := filepath.Dir(o.dir)
		top, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		if len(top) != 1 || top[0].Name() != "outbox" {
			t.Errorf("parent dir holds %v, want only outbox", top)
		}
		err = filepath.WalkDir(o.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != o.dir {
				t.Errorf("subdirectory created: %s", path)
			}
			if !d.IsDir() && !validOutboxName(d.Name()) {
				t.Errorf("unexpected name %q", d.Name())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		entries, err := o.List(0)
		if err != nil || len(entries) != 4 {
			t.Fatalf("List = %v, %v; want 4 entries", entries, err)
		}
		for _, e := range entries {
			if _, err := o.Read(e.Name); err != nil {
				t.Errorf("Read(%q): %v", e.Name, err)
			}
		}
	})

	t.Run("same recipient, same instant", func(t *testing.T) {
		o, _ := mustOutbox(t)
		for range 3 {
			if err := o.DeliverMail(ctx, sample()); err != nil {
				t.Fatal(err)
			}
		}
		entries, err := o.List(0)
		if err != nil || len(entries) != 3 {
			t.Fatalf("List = %v, %v; want 3 entries, none overwritten", entries, err)
		}
	})

	t.Run("newest first, limited", func(t *testing.T) {
		o, now := mustOutbox(t)
		for _, subject := range []string{"one", "two", "three"} {
			m := sample()
			m.Subject = subject
			if err := o.DeliverMail(ctx, m); err != nil {
				t.Fatal(err)
			}
			*now = now.Add(time.Second)
		}
		entries, err := o.List(2)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Subject != "three" || entries[1].Subject != "two" {
			t.Errorf("List(2) = %+v, want three then two", entries)
		}
	})

	t.Run("missing dir is empty", func(t *testing.T) {
		o, _ := mustOutbox(t)
		entries, err := o.List(10)
		if err != nil || len(entries) != 0 {
			t.Errorf("List = %v, %v", entries, err)
		}
	})

	t.Run("invalid message is permanent", func(t *testing.T) {
		o, _ := mustOutbox(t)
		m := sample()
		m.Subject = "x\r\nBcc: eve@evil.test"
		if err := o.DeliverMail(ctx, m); !errors.Is(err, ErrPermanent) || !jobs.IsPermanent(err) {
			t.Errorf("err = %v, want ErrPermanent and jobs.Permanent", err)
		}
		if _, err := os.Stat(o.dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("outbox dir created for a refused message: %v", err)
		}
	})
}

func TestOutboxRead(t *testing.T) {
	o, _ := mustOutbox(t)
	if err := o.DeliverMail(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	// A file next to the outbox that traversal would reach.
	secret := filepath.Join(filepath.Dir(o.dir), "secret.eml")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symlink inside the outbox pointing out of it, with a valid name.
	link := "20261128T160203.000000000Z-link@evil.test.eml"
	if err := os.Symlink(secret, filepath.Join(o.dir, link)); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{
		"../secret.eml",
		"..",
		"",
		secret,
		"/etc/passwd",
		"20261128T160203.123456789Z-alice@example.com.eml/../../secret.eml",
		"20261128T160203.123456789Z-../secret.eml",
		`20261128T160203.123456789Z-..\secret.eml`,
		".tmp-abc.eml",
		"20261128T160203.123456789Z-alice@example.com.txt",
		link,
	} {
		b, err := o.Read(name)
		if err == nil {
			t.Errorf("Read(%q) = %q, want an error", name, b)
			continue
		}
		if name != link && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Read(%q) error %v does not match fs.ErrNotExist", name, err)
		}
	}
	entries, err := o.List(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == link {
			t.Errorf("List shows the symlink %q", link)
		}
	}
}
