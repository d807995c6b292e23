package app_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"gatehouse/app/apptest"
)

// hookReceiver is a brand's webhook endpoint. It checks every request's
// signature by the Standard Webhooks spec, written here from the spec and
// not from Gatehouse's signing code, and can fail the first attempt of
// each message.
type hookReceiver struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	secrets   []string // any of them verifies
	failFirst bool     // answer 500 to the first attempt of each webhook-id
	failAll   bool
	attempts  map[string]int // webhook-id → requests seen
	accepted  map[string]int // webhook-id → 2xx answers given
	events    []hookEvent    // accepted, in order
	bad       []string       // what failed verification
}

type hookEvent struct {
	ID   string
	Type string
	Data map[string]any
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{t: t, attempts: map[string]int{}, accepted: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id, ts, sigs := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature")
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := verifyStandardWebhook(r.secrets, id, ts, sigs, body); err != nil {
		r.bad = append(r.bad, id+": "+err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.attempts[id]++
	if r.failAll || r.failFirst && r.attempts[id] == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var p struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Type == "" || req.Header.Get("Content-Type") != "application/json" {
		r.bad = append(r.bad, id+": body is not an event")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.accepted[id]++
	r.events = append(r.events, hookEvent{ID: id, Type: p.Type, Data: p.Data})
	w.WriteHeader(http.StatusNoContent)
}

// verifyStandardWebhook checks a delivery twice, with software we did not
// write and from the spec, and both must accept it. First the Standard
// Webhooks project's own Go library; then the spec: the signed content is
// "id.timestamp.body", the key is the base64 after "whsec_", and the
// header lists space-separated "v1,<base64 HMAC-SHA256>" signatures of
// which one must match. The timestamp must be within five minutes.
func verifyStandardWebhook(secrets []string, id, ts, header string, body []byte) error {
	if id == "" || ts == "" || header == "" {
		return fmt.Errorf("missing webhook headers")
	}
	headers := http.Header{}
	headers.Set("webhook-id", id)
	headers.Set("webhook-timestamp", ts)
	headers.Set("webhook-signature", header)
	libraryOK := false
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return err
		}
		if wh.Verify(body, headers) == nil {
			libraryOK = true
		}
	}
	if !libraryOK {
		return fmt.Errorf("the standard-webhooks library accepts no signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("timestamp %q out of tolerance", ts)
	}
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			return err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		for _, got := range strings.Split(header, " ") {
			if hmac.Equal([]byte(got), []byte(want)) {
				return nil
			}
		}
	}
	return fmt.Errorf("no signature matches")
}

func (r *hookReceiver) set(edit func(r *hookReceiver)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	edit(r)
}

// waitFor waits until an accepted event of typ satisfies match.
func (r *hookReceiver) waitFor(typ string, match func(e hookEvent) bool) hookEvent {
	r.t.Helper()
	var found hookEvent
	apptest.Eventually(r.t, 90*time.Second, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.events {
			if e.Type == typ && match(e) {
				found = e
				return nil
			}
		}
		return fmt.Errorf("no %s yet (%d accepted, bad: %v)", typ, len(r.events), r.bad)
	})
	return found
}

func (r *hookReceiver) snapshot() (events []hookEvent, attempts, accepted map[string]int, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	attempts, accepted = map[string]int{}, map[string]int{}
	for k, v := range r.attempts {
		attempts[k] = v
	}
	for k, v := range r.accepted {
		accepted[k] = v
	}
	return append([]hookEvent(nil), r.events...), attempts, accepted, append([]string(nil), r.bad...)
}

var (
	whsecRe    = regexp.MustCompile(`whsec_[A-Za-z0-9+/]{43}=`)
	endpointRe = regexp.MustCompile(`/t/[a-z]+/webhooks/([0-9a-f-]{36})`)
)

// mustEndpoint registers url for every event in the console and returns
// the endpoint id and its secret, read from the page shown once.
func mustEndpoint(t *testing.T, b *browser, slug, hookURL string) (string, string) {
	t.Helper()
	form := url.Values{"url": {hookURL}, "description": {"CRM sync"}}
	for _, e := range []string{"customer.created", "customer.updated", "customer.deleted", "customer.disabled", "customer.login", "customer.password_changed", "identity.linked", "import.completed"} {
		form.Add("events", e)
	}
	r := b.post("/t/"+slug+"/webhooks", form)
	secret := whsecRe.FindString(r.Body)
	id := endpointRe.FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusCreated || secret == "" || id == nil {
		t.Fatalf("register endpoint: %d\n%s", r.StatusCode, r.Body)
	}
	return id[1], secret
}

func hookSignUp(t *testing.T, srv *apptest.Server, slug, email string) {
	t.Helper()
	v := srv.Visitor(t)
	p := v.Post(slug+".localhost", "/register", url.Values{"email": {email}, "password": {"correct horse battery staple"}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up on %s: %d", slug, p.StatusCode)
	}
}

// TestWebhooks registers endpoints through the real console, changes
// customers through the real hosted pages, and checks what two brands'
// receivers get: signed events, each accepted once after a retried first
// attempt, never another tenant's; the delivery log and resend; and an
// endpoint failing for 24 hours being disabled with a mail to the admins.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Set("GATEHOUSE_OUTBOUND_ALLOW_LOOPBACK", "true") // the receivers listen on loopback
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	mustTenantCLI(t, env, "bravo", "Bravo Tea")
	mustStaff(t, env, "admin@acme.test", "admin", "acme")
	mustStaff(t, env, "support@acme.test", "support", "acme")
	mustStaff(t, env, "owner@bravo.test", "owner", "bravo")
	srv := env.Serve()
	env.Worker()

	acmeHook, bravoHook := newHookReceiver(t), newHookReceiver(t)
	admin := signedIn(t, srv, "admin@acme.test")
	bravoOwner := signedIn(t, srv, "owner@bravo.test")

	if r := admin.get("/t/acme/webhooks"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `data-testid="empty"`) {
		t.Fatalf("empty webhooks page: %d", r.StatusCode)
	}
	t.Run("bad input names the field", func(t *testing.T) {
		r := admin.post("/t/acme/webhooks", url.Values{"url": {acmeHook.srv.URL}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-events"`) {
			t.Fatalf("no events: %d", r.StatusCode)
		}
		r = admin.post("/t/acme/webhooks", url.Values{"url": {"ftp://example.com/x"}, "events": {"customer.created"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `data-testid="error-url"`) {
			t.Fatalf("ftp URL: %d", r.StatusCode)
		}
	})

	acmeID, acmeSecret := mustEndpoint(t, admin, "acme", acmeHook.srv.URL)
	_, bravoSecret := mustEndpoint(t, bravoOwner, "bravo", bravoHook.srv.URL)
	acmeHook.set(func(r *hookReceiver) { r.secrets = []string{acmeSecret}; r.failFirst = true })
	bravoHook.set(func(r *hookReceiver) { r.secrets = []string{bravoSecret} })
	for _, path := range []string{"/t/acme/webhooks", "/t/acme/webhooks/" + acmeID, "/t/acme/audit"} {
		if p := admin.get(path); strings.Contains(p.Body, acmeSecret) {
			t.Fatalf("%s shows the secret again", path)
		}
	}

	hookSignUp(t, srv, "acme", "ana@example.com")
	hookSignUp(t, srv, "bravo", "bo@example.com")
	created := acmeHook.waitFor("customer.created", func(e hookEvent) bool { return e.Data["email"] == "ana@example.com" })
	bravoHook.waitFor("customer.created", func(e hookEvent) bool { return e.Data["email"] == "bo@example.com" })
	if v := srv.Visitor(t).Post("acme.localhost", "/login", url.Values{"email": {"ana@example.com"}, "password": {"correct horse battery staple"}}); v.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", v.StatusCode)
	}
	acmeHook.waitFor("customer.login", func(e hookEvent) bool { return e.Data["id"] == created.Data["id"] })

	t.Run("each event once, after a retried attempt with the same id", func(t *testing.T) {
		time.Sleep(2 * time.Second) // room for a duplicate to show up
		events, attempts, accepted, bad := acmeHook.snapshot()
		if len(bad) > 0 {
			t.Fatalf("requests failed verification: %v", bad)
		}
		if attempts[created.ID] != 2 || accepted[created.ID] != 1 {
			t.Fatalf("customer.created %s: %d attempts, %d accepted; want 2 and 1", created.ID, attempts[created.ID], accepted[created.ID])
		}
		for _, e := range events {
			if accepted[e.ID] != 1 {
				t.Fatalf("%s %s accepted %d times", e.Type, e.ID, accepted[e.ID])
			}
		}
	})

	t.Run("other tenant", func(t *testing.T) {
		events, _, _, _ := acmeHook.snapshot()
		for _, e := range events {
			if e.Data["email"] == "bo@example.com" {
				t.Fatal("acme's endpoint got bravo's customer")
			}
		}
		events, _, _, _ = bravoHook.snapshot()
		for _, e := range events {
			if e.Data["email"] == "ana@example.com" || e.Data["id"] == created.Data["id"] {
				t.Fatal("bravo's endpoint got acme's customer")
			}
		}
		if p := bravoOwner.get("/t/acme/webhooks"); p.StatusCode != http.StatusNotFound || strings.Contains(p.Body, acmeHook.srv.URL) {
			t.Fatalf("bravo's owner on acme's page: %d", p.StatusCode)
		}
		for _, path := range []string{"/t/bravo/webhooks/" + acmeID} {
			if p := bravoOwner.get(path); p.StatusCode != http.StatusNotFound || strings.Contains(p.Body, acmeHook.srv.URL) {
				t.Fatalf("GET %s: %d", path, p.StatusCode)
			}
		}
		for _, path := range []string{"/rotate", "/enabled", "/delete"} {
			p := bravoOwner.post("/t/bravo/webhooks/"+acmeID+path, url.Values{"overlap": {"0"}, "enabled": {"false"}, "confirm": {"yes"}})
			if p.StatusCode != http.StatusNotFound {
				t.Fatalf("POST %s on acme's endpoint through bravo: %d", path, p.StatusCode)
			}
		}
		support := signedIn(t, srv, "support@acme.test")
		if p := support.get("/t/acme/webhooks"); p.StatusCode != http.StatusForbidden {
			t.Fatalf("acme's support staff: %d, want 403", p.StatusCode)
		}
	})

	t.Run("delivery log and resend", func(t *testing.T) {
		p := admin.get("/t/acme/webhooks/" + acmeID)
		if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, created.ID) || !strings.Contains(p.Body, "204") || !strings.Contains(p.Body, "2 tries") {
			t.Fatalf("log: %d %s\n%s", p.StatusCode, created.ID, p.Body[strings.Index(p.Body, "Deliveries"):])
		}
		resend := regexp.MustCompile(`/t/acme/webhooks/`+acmeID+`/deliveries/[0-9a-f-]{36}/resend`).FindAllString(p.Body, -1)
		if len(resend) == 0 {
			t.Fatal("no resend button")
		}
		// The log is newest first; the last row is the sign-up's event.
		if r := admin.post(resend[len(resend)-1], url.Values{}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("resend: %d", r.StatusCode)
		}
		apptest.Eventually(t, 30*time.Second, func() error {
			if _, _, accepted, _ := acmeHook.snapshot(); accepted[created.ID] != 2 {
				return fmt.Errorf("resent event accepted %d times", accepted[created.ID])
			}
			return nil
		})
		if p := admin.get("/t/acme/webhooks/" + acmeID); !strings.Contains(p.Body, "Queued again") {
			t.Fatal("no confirmation after resend")
		}
	})

	t.Run("rotation signs with both secrets", func(t *testing.T) {
		p := admin.post("/t/acme/webhooks/"+acmeID+"/rotate", url.Values{"overlap": {"1h"}})
		next := whsecRe.FindString(p.Body)
		if p.StatusCode != http.StatusOK || next == "" || next == acmeSecret {
			t.Fatalf("rotate: %d", p.StatusCode)
		}
		// A receiver that knows only the new secret, and one that knows
		// only the old one, both accept the next event.
		for i, only := range []string{next, acmeSecret} {
			acmeHook.set(func(r *hookReceiver) { r.secrets = []string{only}; r.failFirst = false })
			email := fmt.Sprintf("rotation%d@example.com", i)
			hookSignUp(t, srv, "acme", email)
			acmeHook.waitFor("customer.created", func(e hookEvent) bool { return e.Data["email"] == email })
		}
		if _, _, _, bad := acmeHook.snapshot(); len(bad) > 0 {
			t.Fatalf("verification failed: %v", bad)
		}
	})

	t.Run("failing for 24 hours disables and mails the admins", func(t *testing.T) {
		acmeHook.set(func(r *hookReceiver) { r.failAll = true })
		hookSignUp(t, srv, "acme", "late@example.com")
		// The endpoint is made to have failed for 25 hours. The success of
		// the last subtest's delivery, recorded after its receiver answered,
		// can clear that mark after it was set, and a first failure sets it
		// to now; so it is set again until a failing attempt finds it.
		apptest.Eventually(t, 90*time.Second, func() error {
			now := time.Now().UTC()
			err := env.DB().Gorm.Exec("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ? AND enabled AND (failing_since IS NULL OR failing_since > ?)",
				now.Add(-25*time.Hour), acmeID, now.Add(-24*time.Hour)).Error
			if err != nil {
				return err
			}
			var enabled bool
			if err := env.DB().Gorm.Raw("SELECT enabled FROM webhook_endpoints WHERE id = ?", acmeID).Scan(&enabled).Error; err != nil {
				return err
			}
			if enabled {
				return fmt.Errorf("the endpoint failing for 25 hours is still enabled")
			}
			return nil
		})
		m := env.Mail.WaitFor(t, "admin@acme.test", 30*time.Second)
		if !strings.Contains(m.Subject, "disabled") || !strings.Contains(m.Text, acmeHook.srv.URL) || !strings.Contains(m.Text, "/t/acme/webhooks") {
			t.Fatalf("notice: %q\n%s", m.Subject, m.Text)
		}
		p := admin.get("/t/acme/webhooks/" + acmeID)
		if !strings.Contains(p.Body, `data-testid="disabled-reason"`) {
			t.Fatal("the page does not say why the endpoint is off")
		}
		if r := admin.post("/t/acme/webhooks/"+acmeID+"/enabled", url.Values{"enabled": {"true"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable: %d", r.StatusCode)
		}
	})

	t.Run("staff disable and delete a customer", func(t *testing.T) {
		acmeHook.set(func(r *hookReceiver) { r.failAll = false; r.secrets = append(r.secrets, acmeSecret) })
		id, _ := created.Data["id"].(string)
		if r := admin.post("/t/acme/customers/"+id+"/status", url.Values{"status": {"disabled"}}); r.StatusCode >= 400 {
			t.Fatalf("disable: %d", r.StatusCode)
		}
		acmeHook.waitFor("customer.disabled", func(e hookEvent) bool { return e.Data["id"] == id && e.Data["status"] == "disabled" })
		if r := admin.post("/t/acme/customers/"+id+"/delete", url.Values{"confirm": {"ana@example.com"}}); r.StatusCode >= 400 {
			t.Fatalf("delete: %d", r.StatusCode)
		}
		e := acmeHook.waitFor("customer.deleted", func(e hookEvent) bool { return e.Data["id"] == id })
		if _, ok := e.Data["email"]; ok {
			t.Fatal("customer.deleted carries the erased address")
		}
	})

	var actions []string
	env.DB().Gorm.Table("audit_events").Where("target = ?", acmeHook.srv.URL).Order("at").Pluck("action", &actions)
	for _, want := range []string{"webhook.endpoint.created", "webhook.delivery.resent", "webhook.secret.rotated", "webhook.endpoint.disabled", "webhook.endpoint.enabled_changed"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Fatalf("audit %v lacks %s", actions, want)
		}
	}
}
