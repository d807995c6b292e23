package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/app"
	"gatehouse/app/apptest"
)

// BenchmarkOP measures the OpenID Provider as a brand's app and its
// resource servers meet it: the handler `gatehouse serve` runs, on the
// test's own PostgreSQL database and Redis when GATEHOUSE_TEST_* are set
// (SQLite and miniredis otherwise), called in process through an
// http.Client whose transport hands each request to the handler, as the
// other benchmarks here do with httptest. Baseline is a bare handler that
// writes a fixed JSON object, called the same way in the same run, so each
// endpoint's figure can be read as a ratio to it: the shared machine's load
// moves both alike. Each sub-benchmark reports req/s.
func BenchmarkOP(b *testing.B) {
	ob := newOPBench(b)
	ob.refreshChains(b)
	// Rounds rather than -count: -count repeats each sub-benchmark before
	// the next starts, and these must be interleaved, so that a change in
	// the shared machine's load falls on every endpoint and its baseline
	// alike.
	for r := 1; r <= apptest.BenchRounds(); r++ {
		b.Run(fmt.Sprintf("round%d", r), ob.round)
	}
}

func (ob *opBench) round(b *testing.B) {
	b.Run("Baseline", func(b *testing.B) {
		c := benchClient(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"issuer":"http://acme.localhost","ok":true}`)
		}))
		parallelRequests(b, func() (*http.Request, int) {
			req, _ := http.NewRequest(http.MethodGet, "http://acme.localhost/.well-known/openid-configuration", nil)
			return req, http.StatusOK
		}, c)
	})
	b.Run("Discovery", func(b *testing.B) {
		ob.parallelGet(b, "/.well-known/openid-configuration", "")
	})
	b.Run("JWKS", func(b *testing.B) {
		ob.parallelGet(b, "/oauth/keys", "")
	})
	b.Run("Userinfo", func(b *testing.B) {
		ob.parallelGet(b, "/oauth/userinfo", ob.access)
	})
	b.Run("Introspect", func(b *testing.B) {
		form := url.Values{"token": {ob.access}}.Encode()
		parallelRequests(b, func() (*http.Request, int) {
			return ob.tokenPost("/oauth/introspect", form, ob.web), http.StatusOK
		}, ob.client)
	})
	b.Run("ClientCredentials", func(b *testing.B) {
		form := url.Values{"grant_type": {"client_credentials"}}.Encode()
		parallelRequests(b, func() (*http.Request, int) {
			return ob.tokenPost("/oauth/token", form, ob.machine), http.StatusOK
		}, ob.client)
	})
	b.Run("Refresh", func(b *testing.B) {
		// Refresh tokens rotate, so each goroutine follows its own chain,
		// and each chain is its own customer's, signed in on their own
		// device, as real refresh traffic is.
		chains := make(chan string, len(ob.chains))
		for _, v := range ob.chains {
			chains <- ob.exchange(b, ob.code(b, v)).RefreshToken
		}
		b.SetParallelism(benchParallelism)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			rt := <-chains
			for pb.Next() {
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()
				tok, err := ob.tokenCall(ob.tokenPost("/oauth/token", form, ob.web))
				if err != nil {
					b.Error(err)
					return
				}
				rt = tok.RefreshToken
			}
		})
		reportRate(b)
	})
	b.Run("CodeExchange", func(b *testing.B) {
		// A code is single-use and lives a minute, so codes are made in
		// batches with the timer stopped and exchanged with it running.
		b.ReportAllocs()
		b.ResetTimer()
		b.StopTimer()
		for left := b.N; left > 0; {
			n := min(left, 200)
			left -= n
			codes := ob.codes(b, n)
			b.StartTimer()
			ob.exchangeAll(b, codes)
			b.StopTimer()
		}
		reportRate(b)
	})
}

// benchParallelism is RunParallel's goroutines per GOMAXPROCS: enough to
// keep both cores busy while requests wait on PostgreSQL.
const benchParallelism = 4

type opBench struct {
	srv      *apptest.Server
	client   *http.Client
	host     string
	web      createdApp
	machine  createdApp
	visitors []*apptest.Visitor
	chains   []*apptest.Visitor // one customer per Refresh goroutine
	access   string
}

const benchRedirect = "https://shop.example/cb"

func newOPBench(b testing.TB) *opBench {
	b.Helper()
	ob, _ := newOPBenchCounted(b)
	return ob
}

// newOPBenchCounted is newOPBench with the handler's SQL statements
// counted.
func newOPBenchCounted(b testing.TB) (*opBench, *app.Statements) {
	b.Helper()
	env := apptest.New(b)
	if r := env.Run("tenant", "create", "--slug", "acme", "--name", "Acme"); r.Code != 0 {
		b.Fatalf("tenant create: %s", r.Stderr)
	}
	ob := &opBench{host: "acme.localhost"}
	ob.web = benchCreateApp(b, env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", benchRedirect)
	ob.machine = benchCreateApp(b, env, "--tenant", "acme", "--name", "Batch", "--type", "machine", "--scope", "orders:read")
	h, st := app.InProcessHandlerCounted(b, env.Getenv)
	ob.client = benchClient(h)
	ob.srv = &apptest.Server{Port: "80", Client: ob.client}
	// Signed-in browsers, one per goroutine that makes codes.
	for i := range benchParallelism {
		ob.visitors = append(ob.visitors, ob.signUp(b, fmt.Sprintf("bench%d@example.com", i)))
	}
	ob.access = ob.exchange(b, ob.code(b, ob.visitors[0])).AccessToken
	return ob, st
}

// signUp registers a customer and returns their signed-in browser.
func (ob *opBench) signUp(b testing.TB, email string) *apptest.Visitor {
	b.Helper()
	v := ob.srv.Visitor(b)
	form := url.Values{"email": {email}, "password": {"bench passphrase 1"}}
	if p := v.Post(ob.host, "/register", form); p.StatusCode != http.StatusSeeOther {
		b.Fatalf("register: %d %.300s", p.StatusCode, p.Body)
	}
	return v
}

// refreshChains signs in one customer per Refresh goroutine (RunParallel
// starts GOMAXPROCS × benchParallelism), once per benchmark.
func (ob *opBench) refreshChains(b testing.TB) {
	b.Helper()
	for i := len(ob.chains); i < runtime.GOMAXPROCS(0)*benchParallelism; i++ {
		ob.chains = append(ob.chains, ob.signUp(b, fmt.Sprintf("device%d@example.com", i)))
	}
}

func benchCreateApp(b testing.TB, env *apptest.Env, args ...string) createdApp {
	b.Helper()
	r := env.Run(append([]string{"app", "create", "--json"}, args...)...)
	if r.Code != 0 {
		b.Fatalf("app create %v: %s", args, r.Stderr)
	}
	var out createdApp
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		b.Fatal(err)
	}
	return out
}

// benchClient is an http.Client that serves every request with h in
// process: no listener, no loopback connection, whatever the URL's host.
func benchClient(h http.Handler) *http.Client {
	return &http.Client{
		Transport:     inProcess{h},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// inProcess is a RoundTripper that records h's response, as
// httptest.NewRecorder does for the other benchmarks.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, req)
	resp := w.Result()
	resp.Request = req
	return resp, nil
}

type verifiedCode struct{ code, verifier string }

// code runs the authorization step for the web app in a signed-in browser
// and returns the code the app receives.
func (ob *opBench) code(b testing.TB, v *apptest.Visitor) verifiedCode {
	verifier := oauth2.GenerateVerifier()
	q := url.Values{
		"client_id": {ob.web.ClientID}, "redirect_uri": {benchRedirect}, "response_type": {"code"},
		"scope": {"openid email profile offline_access"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
	p := v.Get(ob.host, "/oauth/authorize?"+q.Encode())
	for range 10 {
		loc := p.Header.Get("Location")
		if strings.HasPrefix(loc, benchRedirect+"?") {
			u, _ := url.Parse(loc)
			return verifiedCode{code: u.Query().Get("code"), verifier: verifier}
		}
		if p.StatusCode < 300 || p.StatusCode >= 400 || !strings.HasPrefix(loc, "/") {
			break
		}
		p = v.Get(ob.host, loc)
	}
	b.Fatalf("authorization did not reach the app: %d %q %.300s", p.StatusCode, p.Header.Get("Location"), p.Body)
	return verifiedCode{}
}

// codes makes n codes, from every visitor at once.
func (ob *opBench) codes(b *testing.B, n int) []verifiedCode {
	out := make([]verifiedCode, n)
	var wg sync.WaitGroup
	for w, v := range ob.visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += len(ob.visitors) {
				out[i] = ob.code(b, v)
			}
		}()
	}
	wg.Wait()
	return out
}

func (ob *opBench) exchange(b testing.TB, c verifiedCode) benchToken {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {c.code}, "redirect_uri": {benchRedirect}, "code_verifier": {c.verifier}}
	tok, err := ob.tokenCall(ob.tokenPost("/oauth/token", form.Encode(), ob.web))
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// exchangeAll redeems codes from as many goroutines as RunParallel would
// use.
func (ob *opBench) exchangeAll(b *testing.B, codes []verifiedCode) {
	next := make(chan verifiedCode, len(codes))
	for _, c := range codes {
		next <- c
	}
	close(next)
	var wg sync.WaitGroup
	for range benchParallelism * 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				form := url.Values{"grant_type": {"authorization_code"}, "code": {c.code}, "redirect_uri": {benchRedirect}, "code_verifier": {c.verifier}}
				if _, err := ob.tokenCall(ob.tokenPost("/oauth/token", form.Encode(), ob.web)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

type benchToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

func (ob *opBench) tokenPost(path, form string, a createdApp) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, ob.srv.URL(ob.host, path), strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.ClientID), url.QueryEscape(a.ClientSecret))
	return req
}

func (ob *opBench) tokenCall(req *http.Request) (benchToken, error) {
	var tok benchToken
	resp, err := ob.client.Do(req)
	if err != nil {
		return tok, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return tok, fmt.Errorf("%s: %d %.300s", req.URL.Path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return tok, fmt.Errorf("%s: no access token in %.300s", req.URL.Path, body)
	}
	return tok, nil
}

func (ob *opBench) parallelGet(b *testing.B, path, bearer string) {
	parallelRequests(b, func() (*http.Request, int) {
		req, _ := http.NewRequest(http.MethodGet, ob.srv.URL(ob.host, path), nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		return req, http.StatusOK
	}, ob.client)
}

// parallelRequests sends the request from every goroutine, checks each
// status and reports requests per second.
func parallelRequests(b *testing.B, next func() (*http.Request, int), c *http.Client) {
	req, want := next()
	if code, body := benchDo(c, req); code != want {
		b.Fatalf("%s: %d, want %d: %.300s", req.URL.Path, code, want, body)
	}
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, want := next()
			if code, body := benchDo(c, req); code != want {
				b.Errorf("%s: %d, want %d: %.300s", req.URL.Path, code, want, body)
				return
			}
		}
	})
	reportRate(b)
}

func benchDo(c *http.Client, req *http.Request) (int, string) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func reportRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
}
