package logos_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"testing"

	"gorm.io/gorm"

	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/app/logos"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustDB(t testing.TB) *gorm.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, apptest.Database(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	return d.Gorm
}

func encode(t testing.TB, w, h int, format string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// webp is the smallest lossless WebP header Check accepts.
var webp = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

func TestCheck(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		want string // content type, or a piece of the error
	}{
		"png":          {encode(t, 10, 10, "png"), "image/png"},
		"jpeg":         {encode(t, 10, 10, "jpeg"), "image/jpeg"},
		"webp":         {webp, "image/webp"},
		"empty":        {nil, "choose an image"},
		"too large":    {append(encode(t, 1, 1, "png"), make([]byte, logos.MaxSize)...), "at most 1 MB"},
		"svg":          {[]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "SVG"},
		"svg with bom": {[]byte("\xef\xbb\xbf  <?xml version='1.0'?>\n<svg/>"), "SVG"},
		"exe":          {[]byte("MZ\x90\x00rest of a program"), "program"},
		"elf":          {[]byte("\x7fELF\x02\x01\x01"), "program"},
		"html":         {[]byte("<html><script>alert(1)</script>"), "not a PNG"},
		"truncated":    {encode(t, 10, 10, "png")[:20], "damaged"},
		"huge image":   {encode(t, 5000, 1, "png"), "5000×1 pixels"},
	} {
		t.Run(name, func(t *testing.T) {
			ct, err := logos.Check(c.data)
			if strings.HasPrefix(c.want, "image/") {
				if err != nil || ct != c.want {
					t.Fatalf("Check = %q, %v; want %s", ct, err, c.want)
				}
				return
			}
			if e, ok := apperr.As(err); !ok || e.Field != "logo" || !strings.Contains(e.Message, c.want) {
				t.Fatalf("err = %v, want one on logo containing %q", err, c.want)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte("<svg/>"))
	f.Add(webp)
	f.Fuzz(func(t *testing.T, data []byte) {
		ct, err := logos.Check(data)
		if err == nil && ct != "image/png" && ct != "image/jpeg" && ct != "image/webp" {
			t.Fatalf("accepted %q", ct)
		}
	})
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	g := mustDB(t)
	svc := tenants.NewService(tenants.NewStore(g), nil, "localhost", quiet)
	a, _ := svc.Create(ctx, tenants.NewTenant{Slug: "acme", Name: "Acme"})
	b, _ := svc.Create(ctx, tenants.NewTenant{Slug: "bravo", Name: "Bravo"})
	s := logos.NewStore(g)
	img := encode(t, 20, 20, "png")

	t.Run("ok", func(t *testing.T) {
		l, err := s.Put(ctx, a.ID, img)
		if err != nil || l.ContentType != "image/png" || len(l.Version()) != 12 {
			t.Fatalf("%+v %v", l, err)
		}
		got, err := s.Get(ctx, a.ID)
		if err != nil || !bytes.Equal(got.Data, img) {
			t.Fatalf("Get: %v", err)
		}
		if u, _ := s.URL(ctx, a.ID); u != "/logo?v="+l.Version() {
			t.Fatalf("URL %q", u)
		}
		// Replacing keeps one row and changes the version.
		l2, err := s.Put(ctx, a.ID, encode(t, 30, 30, "jpeg"))
		if err != nil || l2.Version() == l.Version() || l2.ContentType != "image/jpeg" {
			t.Fatalf("replace: %+v %v", l2, err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		if _, err := s.Get(ctx, b.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("B sees A's logo: %v", err)
		}
		if u, _ := s.URL(ctx, b.ID); u != "" {
			t.Fatalf("B's URL %q", u)
		}
		if err := s.Delete(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, a.ID); err != nil {
			t.Fatal("deleting B's logo removed A's")
		}
	})
	t.Run("refused", func(t *testing.T) {
		if _, err := s.Put(ctx, a.ID, []byte("<svg/>")); !apperr.Is(err, apperr.Invalid) {
			t.Fatal(err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := s.Delete(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, a.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatal(err)
		}
	})
}
