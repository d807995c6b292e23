package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sample is one request the load made: when, to what, with what answer.
// status 0 is a transport error (no HTTP answer at all).
type sample struct {
	start, end time.Time
	endpoint   string
	status     int
	err        string
}

// customer is an account the load created, and what it did with it.
type customer struct {
	email, password, ip string

	mu        sync.Mutex
	refresh   string         // the native app's current refresh token
	jar       http.CookieJar // the signed-in session, nil when none
	sessionAt time.Time
	forgot    *attempt   // the one forgot-password request for it
	profile   []attempt  // every profile update, in order
	lost      []lostSess // sessions found signed out
}

// attempt is one state-changing request and how it was answered.
type attempt struct {
	value      string
	start, end time.Time
	status     int
	ok         bool
}

type lostSess struct {
	jar           http.CookieJar
	sessionAt, at time.Time
}

// load is the bounded mixed workload against the load balancer.
type load struct {
	base    string // http://soak.localhost:PORT
	tr      *http.Transport
	app     machineApp
	native  string // client id of the first-party native app
	runID   string
	vus     int
	think   time.Duration
	barrier sync.RWMutex // held for writing while the soak samples memory

	mu        sync.Mutex
	samples   []sample
	customers []*customer // sign-ups that got a success answer
	signups   []attempt   // every sign-up, value = email
	unknown   []attempt   // forgot-password for addresses with no account
	seq       atomic.Int64
}

func newLoad(lbPort int, app machineApp, native string, vus int) *load {
	lb := addr(lbPort)
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		// Every host name goes to the load balancer, so the Host header,
		// the cookie jar and the tenant all see soak.localhost.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, lb)
		},
		MaxIdleConnsPerHost: vus * 2,
		IdleConnTimeout:     30 * time.Second,
	}
	return &load{base: fmt.Sprintf("http://%s.localhost:%d", tenantSlug, lbPort), tr: tr, app: app, native: native, runID: randomHex(4), vus: vus, think: 50 * time.Millisecond}
}

func (l *load) client(jar http.CookieJar) *http.Client {
	return &http.Client{Transport: l.tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends one request and records it. It returns the response with its
// body read into body.
func (l *load) do(endpoint string, jar http.CookieJar, ip string, req *http.Request) (*http.Response, []byte, sample) {
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	s := sample{start: time.Now(), endpoint: endpoint}
	resp, err := l.client(jar).Do(req)
	var body []byte
	if err != nil {
		s.err = err.Error()
	} else {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		s.status = resp.StatusCode
	}
	s.end = time.Now()
	l.mu.Lock()
	l.samples = append(l.samples, s)
	l.mu.Unlock()
	return resp, body, s
}

func (l *load) form(endpoint, path string, jar http.CookieJar, ip string, v url.Values) (*http.Response, sample) {
	req, _ := http.NewRequest(http.MethodPost, l.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _, s := l.do(endpoint, jar, ip, req)
	return resp, s
}

// run drives vus virtual users until ctx ends.
func (l *load) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range l.vus {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				l.barrier.RLock()
				l.step()
				l.barrier.RUnlock()
				select {
				case <-ctx.Done():
				case <-time.After(l.think):
				}
			}
		}()
	}
	wg.Wait()
}

// quiesce waits for every request in flight to end, runs f, then lets the
// load carry on, so that memory and goroutines are read at rest.
func (l *load) quiesce(f func()) {
	l.barrier.Lock()
	defer l.barrier.Unlock()
	time.Sleep(500 * time.Millisecond)
	f()
}

// step is one action of the mix: sign-ups and logins hash passwords and
// are the expensive part, so they are the smaller share.
func (l *load) step() {
	switch n := randInt(100); {
	case n < 12:
		l.signup()
	case n < 24:
		l.login()
	case n < 44:
		l.viewAccount()
	case n < 62:
		l.updateProfile()
	case n < 72:
		l.forgot()
	case n < 86:
		l.refreshGrant()
	default:
		l.token()
	}
}

func (l *load) signup() {
	n := l.seq.Add(1)
	c := &customer{email: fmt.Sprintf("su-%s-%06d@soak.test", l.runID, n), password: "Soak-" + randomHex(8), ip: fakeIP(n)}
	jar, _ := cookiejar.New(nil)
	resp, s := l.form("POST /register", "/register", jar, c.ip, url.Values{"email": {c.email}, "password": {c.password}, "first_name": {"Signup"}})
	a := attempt{value: c.email, start: s.start, end: s.end, status: s.status}
	if resp != nil && resp.StatusCode == http.StatusSeeOther {
		a.ok = true
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login") {
			c.jar, c.sessionAt = jar, s.end
		}
	}
	l.mu.Lock()
	l.signups = append(l.signups, a)
	if a.ok {
		l.customers = append(l.customers, c)
	}
	l.mu.Unlock()
}

// pick returns a random customer, or nil before the first sign-up.
func (l *load) pick(f func(*customer) bool) *customer {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.customers) == 0 {
		return nil
	}
	for range 8 {
		c := l.customers[randInt(len(l.customers))]
		if f == nil || f(c) {
			return c
		}
	}
	return nil
}

func (l *load) login() {
	c := l.pick(nil)
	if c == nil {
		l.signup()
		return
	}
	jar, _ := cookiejar.New(nil)
	resp, s := l.form("POST /login", "/login", jar, c.ip, url.Values{"email": {c.email}, "password": {c.password}})
	if resp != nil && resp.StatusCode == http.StatusSeeOther && !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		c.mu.Lock()
		c.jar, c.sessionAt = jar, s.end
		c.mu.Unlock()
	}
}

func withSession(c *customer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jar != nil
}

// signedOut records that a session the customer held answers as signed
// out, and forgets it.
func (c *customer) signedOut(jar http.CookieJar, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.jar == jar {
		c.lost = append(c.lost, lostSess{jar: jar, sessionAt: c.sessionAt, at: at})
		c.jar = nil
	}
}

func (c *customer) session() http.CookieJar {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jar
}

func (l *load) viewAccount() {
	c := l.pick(withSession)
	if c == nil {
		l.login()
		return
	}
	jar := c.session()
	req, _ := http.NewRequest(http.MethodGet, l.base+"/account", nil)
	resp, _, s := l.do("GET /account", jar, c.ip, req)
	if resp != nil && resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		c.signedOut(jar, s.end)
	}
}

func (l *load) updateProfile() {
	c := l.pick(withSession)
	if c == nil {
		l.login()
		return
	}
	jar := c.session()
	value := fmt.Sprintf("Name%d", l.seq.Add(1))
	resp, s := l.form("POST /account", "/account", jar, c.ip, url.Values{"first_name": {value}})
	a := attempt{value: value, start: s.start, end: s.end, status: s.status}
	if resp != nil && resp.StatusCode == http.StatusSeeOther {
		if strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			c.signedOut(jar, s.end)
		} else {
			a.ok = true
		}
	}
	c.mu.Lock()
	c.profile = append(c.profile, a)
	c.mu.Unlock()
}

// forgot asks for a reset once per account that has not asked yet, and
// for an unknown address otherwise (or every other time).
func (l *load) forgot() {
	var c *customer
	if randInt(2) == 0 {
		c = l.pick(func(c *customer) bool { c.mu.Lock(); defer c.mu.Unlock(); return c.forgot == nil })
	}
	n := l.seq.Add(1)
	if c == nil {
		email := fmt.Sprintf("nobody-%s-%06d@soak.test", l.runID, n)
		resp, s := l.form("POST /password/forgot", "/password/forgot", nil, fakeIP(n), url.Values{"email": {email}})
		l.mu.Lock()
		l.unknown = append(l.unknown, attempt{value: email, start: s.start, end: s.end, status: s.status, ok: resp != nil && resp.StatusCode == http.StatusOK})
		l.mu.Unlock()
		return
	}
	c.mu.Lock()
	if c.forgot != nil {
		c.mu.Unlock()
		return
	}
	c.forgot = &attempt{value: c.email} // claimed, so no other user asks too
	c.mu.Unlock()
	resp, s := l.form("POST /password/forgot", "/password/forgot", nil, c.ip, url.Values{"email": {c.email}})
	c.mu.Lock()
	*c.forgot = attempt{value: c.email, start: s.start, end: s.end, status: s.status, ok: resp != nil && resp.StatusCode == http.StatusOK}
	c.mu.Unlock()
}

// refreshGrant rotates a customer's refresh token of the first-party
// native app; a customer without one signs in headlessly first
// (authorization challenge, then the code grant with PKCE). A refresh
// whose answer is lost cannot be retried (presenting a used token revokes
// the sign-in), so the chain starts again.
func (l *load) refreshGrant() {
	c := l.pick(nil)
	if c == nil {
		l.signup()
		return
	}
	c.mu.Lock()
	rt := c.refresh
	c.refresh = "" // taken: no other virtual user presents it too
	c.mu.Unlock()
	if rt == "" {
		rt = l.headlessSignIn(c)
		if rt == "" {
			return
		}
	}
	body, ok := l.post("POST /oauth/token (refresh_token)", "/oauth/token", c.ip, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {l.native}})
	if !ok {
		return
	}
	var t struct {
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(body, &t) == nil && t.RefreshToken != "" {
		c.mu.Lock()
		c.refresh = t.RefreshToken
		c.mu.Unlock()
	}
}

func (l *load) headlessSignIn(c *customer) string {
	verifier := randomHex(32)
	sum := sha256.Sum256([]byte(verifier))
	body, ok := l.post("POST /api/v1/authorize-challenge", "/api/v1/authorize-challenge", c.ip, url.Values{
		"client_id": {l.native}, "email": {c.email}, "password": {c.password}, "scope": {"openid offline_access"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}})
	var ch struct {
		Code string `json:"authorization_code"`
	}
	if !ok || json.Unmarshal(body, &ch) != nil || ch.Code == "" {
		return ""
	}
	body, ok = l.post("POST /oauth/token (authorization_code)", "/oauth/token", c.ip, url.Values{"grant_type": {"authorization_code"}, "code": {ch.Code}, "client_id": {l.native}, "code_verifier": {verifier}})
	var t struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !ok || json.Unmarshal(body, &t) != nil {
		return ""
	}
	return t.RefreshToken
}

// post sends a form and reports whether it was answered 200.
func (l *load) post(endpoint, path, ip string, v url.Values) ([]byte, bool) {
	req, _ := http.NewRequest(http.MethodPost, l.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, _ := l.do(endpoint, nil, ip, req)
	return body, resp != nil && resp.StatusCode == http.StatusOK
}

// token is the OpenID Provider's client_credentials grant of the machine
// app.
func (l *load) token() {
	_, _ = l.accessToken("POST /oauth/token (client_credentials)")
}

func (l *load) accessToken(endpoint string) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, l.base+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"imports:write"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(l.app.ClientID), url.QueryEscape(l.app.ClientSecret))
	resp, body, s := l.do(endpoint, nil, fakeIP(l.seq.Add(1)), req)
	if resp == nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token: status %d %s %s", s.status, s.err, body)
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("token: %v %s", err, body)
	}
	return t.AccessToken, nil
}

// startImport posts the file to the JSON API with the machine app's token,
// as a brand's back-end does, and returns the import's id.
func (l *load) startImport(body io.Reader) (string, error) {
	tok, err := l.accessToken("POST /oauth/token (client_credentials)")
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequest(http.MethodPost, l.base+"/api/v1/imports?mode=create&name=soak", body)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, b, s := l.do("POST /api/v1/imports", nil, "", req)
	if resp == nil || resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("POST /api/v1/imports: status %d %s %s", s.status, s.err, b)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("POST /api/v1/imports: %v %s", err, b)
	}
	return out.ID, nil
}

// snapshot copies what the checks read once the load has stopped.
func (l *load) snapshot() ([]sample, []*customer, []attempt, []attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sample{}, l.samples...), append([]*customer{}, l.customers...), append([]attempt{}, l.signups...), append([]attempt{}, l.unknown...)
}

// fakeIP is a stable documentation-range-like private address per number,
// sent as X-Forwarded-For so per-address limits see many customers.
func fakeIP(n int64) string {
	return fmt.Sprintf("10.%d.%d.%d", (n>>16)&0xff, (n>>8)&0xff, n&0xff)
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
