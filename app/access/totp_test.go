package access_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"gatehouse/app/access"
	"gatehouse/app/secrets"
	"gatehouse/apperr"
)

// totpStep is one TOTP time step: a code for now+totpStep is the next one,
// still inside the window.
const totpStep = 30 * time.Second

func mustTwoFactor(t testing.TB, f *fixture) *access.TwoFactor {
	t.Helper()
	box, err := secrets.NewBox([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return access.NewTwoFactor(f.svc, box)
}

// codeAt is the code an authenticator app shows for secret at a time.
func codeAt(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled creates a staff member with two-factor on, confirmed with the
// current code, and returns them, the secret and the recovery codes.
func enrolled(t testing.TB, f *fixture, tf *access.TwoFactor, email string) (access.Staff, string, []string) {
	t.Helper()
	ctx := context.Background()
	st := f.create(t, email, access.Support, f.a)
	actor := access.Actor{StaffID: st.ID, Email: st.Email}
	e, err := tf.Start(ctx, actor)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := tf.Confirm(ctx, actor, codeAt(t, e.Secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return st, e.Secret, codes
}

// pending signs in with the password and returns the pending token.
func pending(t testing.TB, tf *access.TwoFactor, email string) string {
	t.Helper()
	step, err := tf.BeginSignIn(context.Background(), email, goodPassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if step.Pending == "" {
		t.Fatal("signed in without the second factor")
	}
	return step.Pending
}

func TestTOTPEnrol(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tf := mustTwoFactor(t, f)
	st := f.create(t, "ops@example.com", access.PlatformAdmin, nil)
	actor := access.Actor{StaffID: st.ID, Email: st.Email}

	e, err := tf.Start(ctx, actor)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the URI names the issuer, the account and the secret", func(t *testing.T) {
		u, err := url.Parse(e.URI)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != e.Secret ||
			u.Query().Get("issuer") != "Gatehouse" || !strings.Contains(u.Path, "ops@example.com") {
			t.Fatalf("URI %q", e.URI)
		}
		if len(e.Secret) < 32 {
			t.Fatalf("secret of %d base32 symbols; want 160 bits", len(e.Secret))
		}
		if img, err := e.QRCode(200); err != nil || img.Bounds().Dx() != 200 {
			t.Fatalf("QR code: %v", err)
		}
	})
	t.Run("the secret is sealed at rest", func(t *testing.T) {
		var sealed string
		f.db.Raw("SELECT totp_secret FROM staff WHERE id = ?", st.ID).Scan(&sealed)
		if !strings.HasPrefix(sealed, "v1.") || strings.Contains(sealed, e.Secret) {
			t.Fatalf("stored secret %q", sealed)
		}
	})
	t.Run("pending is not on", func(t *testing.T) {
		s, err := tf.Status(ctx, st.ID)
		if err != nil || s.Enabled {
			t.Fatalf("status %+v %v", s, err)
		}
		if step, err := tf.BeginSignIn(ctx, st.Email, goodPassword, ""); err != nil || step.Pending != "" {
			t.Fatalf("a pending set-up asked for a code: %+v %v", step, err)
		}
		again, err := tf.Pending(ctx, st.ID)
		if err != nil || again.Secret != e.Secret {
			t.Fatalf("pending %+v %v", again, err)
		}
	})
	for name, c := range map[string]string{
		"empty":       "",
		"wrong":       "000000",
		"long ago":    codeAt(t, e.Secret, time.Now().Add(-90*time.Second)),
		"far ahead":   codeAt(t, e.Secret, time.Now().Add(90*time.Second)),
		"not a code":  "abcdef",
		"a long junk": strings.Repeat("1", 100),
	} {
		t.Run("confirm refuses "+name, func(t *testing.T) {
			if c == "000000" && c == codeAt(t, e.Secret, time.Now()) {
				t.Skip("the current code is 000000")
			}
			_, err := tf.Confirm(ctx, actor, c)
			if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Field != "code" {
				t.Fatalf("err = %v", err)
			}
		})
	}
	var codes []string
	t.Run("confirm", func(t *testing.T) {
		codes, err = tf.Confirm(ctx, actor, " "+codeAt(t, e.Secret, time.Now())[:3]+" "+codeAt(t, e.Secret, time.Now())[3:])
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != access.RecoveryCodeCount {
			t.Fatalf("%d recovery codes", len(codes))
		}
		shape := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)
		seen := map[string]bool{}
		for _, c := range codes {
			if !shape.MatchString(c) || seen[c] {
				t.Fatalf("recovery code %q", c)
			}
			seen[c] = true
		}
		s, err := tf.Status(ctx, st.ID)
		if err != nil || !s.Enabled || s.RecoveryCodesLeft != 10 || s.EnabledAt.IsZero() {
			t.Fatalf("status %+v %v", s, err)
		}
	})
	t.Run("recovery codes are stored only as hashes", func(t *testing.T) {
		var hashes []string
		f.db.Raw("SELECT code_hash FROM staff_recovery_codes WHERE staff_id = ?", st.ID).Scan(&hashes)
		if len(hashes) != 10 {
			t.Fatalf("%d rows", len(hashes))
		}
		for _, h := range hashes {
			for _, c := range codes {
				if strings.Contains(h, c) || strings.Contains(h, strings.ReplaceAll(c, "-", "")) {
					t.Fatal("a raw recovery code in the table")
				}
			}
		}
	})
	t.Run("a secret in force cannot be replaced or shown", func(t *testing.T) {
		if _, err := tf.Start(ctx, actor); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("start again: %v", err)
		}
		if _, err := tf.Pending(ctx, st.ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("pending after confirm: %v", err)
		}
		if _, err := tf.Confirm(ctx, actor, codeAt(t, e.Secret, time.Now())); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("confirm again: %v", err)
		}
	})
	t.Run("audited", func(t *testing.T) {
		var n int64
		f.db.Table("audit_events").Where("action = ? AND actor = ?", "staff.totp.enabled", "staff:ops@example.com").Count(&n)
		if n != 1 {
			t.Fatalf("%d staff.totp.enabled events", n)
		}
	})
}

func TestTOTPSignIn(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tf := mustTwoFactor(t, f)
	plain := f.create(t, "plain@acme.test", access.Support, f.a)
	st, secret, codes := enrolled(t, f, tf, "two@acme.test")

	t.Run("without two-factor the password signs in", func(t *testing.T) {
		step, err := tf.BeginSignIn(ctx, "PLAIN@acme.test", goodPassword, "")
		if err != nil || step.Pending != "" || step.Staff.ID != plain.ID {
			t.Fatalf("%+v %v", step, err)
		}
	})
	t.Run("a wrong password is the one answer", func(t *testing.T) {
		if _, err := tf.BeginSignIn(ctx, "two@acme.test", "not the password", ""); !errors.Is(err, access.ErrBadCredentials) {
			t.Fatal(err)
		}
	})

	token := pending(t, tf, "two@acme.test")
	t.Run("the pending sign-in is stored only as a hash", func(t *testing.T) {
		var n int64
		f.db.Table("one_time_tokens").Where("id = ?", token).Count(&n)
		if n != 0 {
			t.Fatal("raw token in the table")
		}
		if got, err := tf.PendingSignIn(ctx, token); err != nil || got.ID != st.ID {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("a wrong code keeps the pending sign-in", func(t *testing.T) {
		for _, c := range []string{"123456", codeAt(t, secret, time.Now().Add(-90*time.Second)), "zzzzz-zzzzz", ""} {
			if c == codeAt(t, secret, time.Now()) {
				continue
			}
			if _, err := tf.FinishSignIn(ctx, token, c, "192.0.2.1"); !errors.Is(err, access.ErrWrongCode) {
				t.Fatalf("code %q: %v", c, err)
			}
		}
		if _, err := tf.PendingSignIn(ctx, token); err != nil {
			t.Fatalf("spent by a wrong code: %v", err)
		}
	})
	next := codeAt(t, secret, time.Now().Add(totpStep))
	t.Run("the right code signs in once", func(t *testing.T) {
		done, err := tf.FinishSignIn(ctx, token, next, "192.0.2.1")
		if err != nil || done.Staff.ID != st.ID || done.UsedRecoveryCode {
			t.Fatalf("%+v %v", done, err)
		}
		if _, err := tf.FinishSignIn(ctx, token, next, ""); !errors.Is(err, access.ErrSignInExpired) {
			t.Fatalf("token reused: %v", err)
		}
	})
	t.Run("a used code does not work again", func(t *testing.T) {
		again := pending(t, tf, "two@acme.test")
		for _, c := range []string{next, codeAt(t, secret, time.Now())} {
			if _, err := tf.FinishSignIn(ctx, again, c, ""); !errors.Is(err, access.ErrWrongCode) {
				t.Fatalf("replayed code %q: %v", c, err)
			}
		}
	})
	t.Run("a recovery code works once, in any case and without its dash", func(t *testing.T) {
		typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
		done, err := tf.FinishSignIn(ctx, pending(t, tf, "two@acme.test"), typed, "")
		if err != nil || !done.UsedRecoveryCode || done.RecoveryCodesLeft != 9 {
			t.Fatalf("%+v %v", done, err)
		}
		if _, err := tf.FinishSignIn(ctx, pending(t, tf, "two@acme.test"), codes[0], ""); !errors.Is(err, access.ErrWrongCode) {
			t.Fatalf("recovery code reused: %v", err)
		}
	})
	t.Run("another staff member's recovery code is wrong", func(t *testing.T) {
		_, _, others := enrolled(t, f, tf, "other@acme.test")
		if _, err := tf.FinishSignIn(ctx, pending(t, tf, "two@acme.test"), others[0], ""); !errors.Is(err, access.ErrWrongCode) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		late := pending(t, tf, "two@acme.test")
		f.db.Table("one_time_tokens").Where("purpose = ? AND used_at IS NULL", "staff_totp_login").Update("expires_at", time.Now().Add(-time.Minute).UTC())
		if _, err := tf.PendingSignIn(ctx, late); !errors.Is(err, access.ErrSignInExpired) {
			t.Fatal(err)
		}
		if _, err := tf.FinishSignIn(ctx, late, codes[1], ""); !errors.Is(err, access.ErrSignInExpired) {
			t.Fatal(err)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		for _, tok := range []string{"", "nope", strings.Repeat("x", 200)} {
			if _, err := tf.FinishSignIn(ctx, tok, codes[1], ""); !errors.Is(err, access.ErrSignInExpired) {
				t.Fatalf("%q: %v", tok, err)
			}
		}
	})
	t.Run("audited", func(t *testing.T) {
		count := func(action string) int64 {
			var n int64
			f.db.Table("audit_events").Where("action = ? AND target = ?", action, "two@acme.test").Count(&n)
			return n
		}
		// Logins: the right code and the recovery code; failures: four wrong
		// codes, two replays, the reused and the foreign recovery code.
		if n := count("staff.login"); n != 2 {
			t.Errorf("%d staff.login, want 2", n)
		}
		if n := count("staff.login.totp_failed"); n != 8 {
			t.Errorf("%d staff.login.totp_failed, want 8", n)
		}
		if n := count("staff.recovery_code.used"); n != 1 {
			t.Errorf("%d staff.recovery_code.used, want 1", n)
		}
	})
}

// TestTOTPSingleUseUnderConcurrency races sign-ins with one TOTP code and
// with one recovery code: each works exactly once.
func TestTOTPSingleUseUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tf := mustTwoFactor(t, f)
	_, secret, codes := enrolled(t, f, tf, "race@acme.test")

	for name, c := range map[string]string{
		"totp code":     codeAt(t, secret, time.Now().Add(totpStep)),
		"recovery code": codes[3],
	} {
		t.Run(name, func(t *testing.T) {
			tokens := make([]string, 4)
			for i := range tokens {
				tokens[i] = pending(t, tf, "race@acme.test")
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for _, tok := range tokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := tf.FinishSignIn(ctx, tok, c, "")
					switch {
					case err == nil:
						mu.Lock()
						ok++
						mu.Unlock()
					case !errors.Is(err, access.ErrWrongCode) && !apperr.Is(err, apperr.Unavailable):
						t.Errorf("concurrent sign-in: %v", err)
					}
				}()
			}
			wg.Wait()
			if ok != 1 {
				t.Fatalf("%d sign-ins succeeded, want exactly 1", ok)
			}
		})
	}
}

func TestTOTPDisable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tf := mustTwoFactor(t, f)
	st, secret, codes := enrolled(t, f, tf, "off@acme.test")
	actor := access.Actor{StaffID: st.ID, Email: st.Email}

	for name, c := range map[string]struct {
		code, password string
		want           error
		field          string
	}{
		"no proof":       {"", "", nil, "code"},
		"wrong code":     {"123456", "", access.ErrWrongCode, "code"},
		"wrong password": {"", "not the password", access.ErrWrongPassword, "password"},
		"used code":      {codeAt(t, secret, time.Now().Add(-totpStep)), "", access.ErrWrongCode, "code"},
	} {
		t.Run(name, func(t *testing.T) {
			if c.code == "123456" && c.code == codeAt(t, secret, time.Now()) {
				t.Skip("the current code is 123456")
			}
			err := tf.Disable(ctx, actor, c.code, c.password)
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if e, ok := apperr.As(err); !ok || e.Field != c.field {
				t.Fatalf("err = %v, want one on %s", err, c.field)
			}
			if s, _ := tf.Status(ctx, st.ID); !s.Enabled {
				t.Fatal("turned off without proof")
			}
		})
	}
	stale := pending(t, tf, "off@acme.test")
	t.Run("with a recovery code", func(t *testing.T) {
		if err := tf.Disable(ctx, actor, codes[0], ""); err != nil {
			t.Fatal(err)
		}
		var n int64
		f.db.Table("staff_recovery_codes").Where("staff_id = ?", st.ID).Count(&n)
		if n != 0 {
			t.Fatalf("%d recovery codes left behind", n)
		}
		if s, err := tf.Status(ctx, st.ID); err != nil || s.Enabled {
			t.Fatalf("%+v %v", s, err)
		}
	})
	t.Run("a sign-in pending from before cannot finish", func(t *testing.T) {
		if _, err := tf.FinishSignIn(ctx, stale, codes[1], ""); !errors.Is(err, access.ErrSignInExpired) {
			t.Fatal(err)
		}
	})
	t.Run("the password alone signs in again", func(t *testing.T) {
		if step, err := tf.BeginSignIn(ctx, "off@acme.test", goodPassword, ""); err != nil || step.Pending != "" {
			t.Fatalf("%+v %v", step, err)
		}
	})
	t.Run("off is a conflict", func(t *testing.T) {
		if err := tf.Disable(ctx, actor, "", goodPassword); !apperr.Is(err, apperr.Conflict) {
			t.Fatal(err)
		}
	})
	t.Run("with the password", func(t *testing.T) {
		e, err := tf.Start(ctx, actor)
		if err != nil {
			t.Fatal(err)
		}
		// A new secret has its own steps; the last one used is forgotten.
		if _, err := tf.Confirm(ctx, actor, codeAt(t, e.Secret, time.Now())); err != nil {
			t.Fatal(err)
		}
		if err := tf.Disable(ctx, actor, "", goodPassword); err != nil {
			t.Fatal(err)
		}
		var n int64
		f.db.Table("audit_events").Where("action = ? AND target = ?", "staff.totp.disabled", "off@acme.test").Count(&n)
		if n != 2 {
			t.Fatalf("%d staff.totp.disabled events, want 2", n)
		}
	})
}
