package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"gatehouse/app/apptest"
)

// readyz returns /readyz's status and its "status" word.
func readyz(t *testing.T, srv *apptest.Server) (int, string, string) {
	t.Helper()
	resp, body := srv.Get(t, "demo.localhost", "/readyz")
	var r struct{ Status string }
	_ = json.Unmarshal([]byte(body), &r)
	return resp.StatusCode, r.Status, body
}

// TestRedisOutage runs a server and a worker on a Redis of the test's own
// and kills it: /readyz says degraded with 200 (the load balancer keeps
// the node), an existing customer still logs in with a password (sessions
// are in the database, the throttle counts in memory), and a sign-up made
// while Redis is away gets its verification mail, once, after Redis is
// back (the mail waited in the outbox).
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	rp := apptest.StartRedis(t)
	env := apptest.New(t)
	env.Set("GATEHOUSE_REDIS_URL", rp.URL(0))
	env.Set("GATEHOUSE_LOG_LEVEL", "info") // ratelimit_recovered is an info line
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	srv := env.Serve()
	env.Worker()
	host := "acme.localhost"

	ann := srv.Visitor(t)
	wantRedirect(t, signup(ann, host, "ann@example.com", "correct horse battery", nil), "/")
	env.Mail.WaitFor(t, "ann@example.com", 15*time.Second)
	ann.Post(host, "/logout", nil)
	if code, word, body := readyz(t, srv); code != 200 || word != "ok" {
		t.Fatalf("/readyz with Redis up: %d %s", code, body)
	}

	rp.Stop()
	if code, word, body := readyz(t, srv); code != http.StatusOK || word != "degraded" || !strings.Contains(body, `"redis":"degraded"`) || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("/readyz with Redis down: %d %s; want 200, degraded", code, body)
	}
	// A wrong password is still refused, then the right one signs in.
	if p := login(ann, host, "ann@example.com", "wrong horse battery"); p.StatusCode == http.StatusSeeOther || !strings.Contains(p.Body, badLogin) {
		t.Fatalf("wrong password with Redis down: %d %.300s", p.StatusCode, p.Body)
	}
	wantRedirect(t, login(ann, host, "ann@example.com", "correct horse battery"), "/")
	if p := ann.Get(host, "/account"); p.StatusCode != 200 || !strings.Contains(p.Body, "ann@example.com") {
		t.Fatalf("/account after a login with Redis down: %d", p.StatusCode)
	}

	bob := srv.Visitor(t)
	wantRedirect(t, signup(bob, host, "bob@example.com", "correct horse battery", nil), "/")
	var waiting int64
	env.DB().Gorm.Table("job_outbox").Count(&waiting)
	if waiting == 0 {
		t.Fatal("the sign-up made with Redis down left no job in the outbox")
	}

	// A forgot-password made with Redis down is counted in memory and its
	// job waits in the outbox, like the sign-up's mail: not taken for
	// "throttled" and dropped.
	if p := srv.Visitor(t).Post(host, "/password/forgot", url.Values{"email": {"ann@example.com"}}); p.StatusCode != http.StatusOK {
		t.Fatalf("forgot-password with Redis down: %d %.300s", p.StatusCode, p.Body)
	}
	before := mailsTo(env.Mail.Messages(), "ann@example.com")

	rp.Start()
	apptest.Eventually(t, 30*time.Second, func() error {
		if n := mailsTo(env.Mail.Messages(), "ann@example.com"); n != before+1 {
			return fmt.Errorf("ann has %d mails after Redis returned; want the reset mail (%d)", n, before+1)
		}
		return nil
	})
	m := env.Mail.WaitFor(t, "bob@example.com", 30*time.Second)
	if !strings.Contains(m.Subject, "Confirm your email") {
		t.Fatalf("bob got %q", m.Subject)
	}
	apptest.Eventually(t, 10*time.Second, func() error {
		env.DB().Gorm.Table("job_outbox").Count(&waiting)
		if waiting != 0 {
			return fmt.Errorf("%d outbox rows left", waiting)
		}
		return nil
	})
	if n := mailsTo(env.Mail.Messages(), "bob@example.com"); n != 1 {
		t.Fatalf("bob got %d mails; want the one verification mail", n)
	}
	if n := mailsTo(env.Mail.Messages(), "ann@example.com"); n != before+1 {
		t.Fatalf("ann got %d mails; want %d (one reset mail for the forgot-password made with Redis down)", n, before+1)
	}
	apptest.Eventually(t, 5*time.Second, func() error {
		if code, word, body := readyz(t, srv); code != 200 || word != "ok" {
			return fmt.Errorf("/readyz after Redis returned: %d %s", code, body)
		}
		return nil
	})
	// Logins go to Redis again within a second, which is logged once.
	apptest.Eventually(t, 5*time.Second, func() error {
		wantRedirect(t, login(srv.Visitor(t), host, "ann@example.com", "correct horse battery"), "/")
		if !strings.Contains(srv.Stdout.Log(), "ratelimit_recovered") {
			return fmt.Errorf("no ratelimit_recovered logged yet")
		}
		return nil
	})
	logs := srv.Stdout.Log()
	if strings.Count(logs, "ratelimit_degraded") != 1 || strings.Count(logs, "ratelimit_recovered") != 1 {
		t.Fatalf("want the throttle's fallback logged once each way; degraded %d, recovered %d", strings.Count(logs, "ratelimit_degraded"), strings.Count(logs, "ratelimit_recovered"))
	}
}

// TestRedisSentinel runs a server and a worker on a master, a replica and
// a Sentinel of the test's own (redis-sentinel:// URL): mail goes out, a
// SENTINEL FAILOVER promotes the replica, and mail still goes out, through
// the new master, with no restart.
func TestRedisSentinel(t *testing.T) {
	t.Parallel()
	master := apptest.StartRedis(t)
	replica := apptest.StartRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
	sentinel := apptest.StartSentinel(t, "gh", master.Port)
	sc := redis.NewSentinelClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(sentinel)})
	defer sc.Close()
	ctx := context.Background()
	masterPort := func() string {
		addr, err := sc.GetMasterAddrByName(ctx, "gh").Result()
		if err != nil || len(addr) != 2 {
			return ""
		}
		return addr[1]
	}
	// The replica must be known and in sync before a failover can pick it.
	apptest.Eventually(t, 15*time.Second, func() error {
		replicas, err := sc.Replicas(ctx, "gh").Result()
		if err != nil || len(replicas) == 0 || replicas[0]["master-link-status"] != "ok" {
			return fmt.Errorf("sentinel has not seen a healthy replica yet: %v %v", replicas, err)
		}
		return nil
	})

	env := apptest.New(t)
	env.Set("GATEHOUSE_REDIS_URL", "redis-sentinel://127.0.0.1:"+strconv.Itoa(sentinel)+"/gh/0")
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	srv := env.Serve()
	env.Worker()
	host := "acme.localhost"
	wantRedirect(t, signup(srv.Visitor(t), host, "ann@example.com", "correct horse battery", nil), "/")
	env.Mail.WaitFor(t, "ann@example.com", 15*time.Second)

	if err := sc.Failover(ctx, "gh").Err(); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 20*time.Second, func() error {
		if p := masterPort(); p != strconv.Itoa(replica.Port) {
			return fmt.Errorf("master is on port %q, not yet the replica's %d", p, replica.Port)
		}
		// The failover is over when the old master follows the new one;
		// until then it still takes writes that replication then drops
		// (Redis replicates asynchronously; see docs/architecture.md).
		old := redis.NewClient(&redis.Options{Addr: master.Addr()})
		defer old.Close()
		if info, _ := old.Info(ctx, "replication").Result(); !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("the old master is not a replica yet")
		}
		return nil
	})
	wantRedirect(t, signup(srv.Visitor(t), host, "bob@example.com", "correct horse battery", nil), "/")
	env.Mail.WaitFor(t, "bob@example.com", 30*time.Second)
	if code, word, body := readyz(t, srv); code != 200 || word != "ok" {
		t.Fatalf("/readyz after the failover: %d %s", code, body)
	}
}

// TestDatabaseOutage puts a TCP proxy between the server and PostgreSQL
// and cuts it. While it is cut, every kind of request that needs the
// database gets a 503 with Retry-After and no trace of the error: the
// brand's own themed page on its host, the console's page on the console,
// problem+json on the API, and /readyz says unavailable. A sign-up sent
// during the cut leaves nothing behind. Once the proxy is restored the same
// server, never restarted, serves all of it again.
func TestDatabaseOutage(t *testing.T) {
	if !apptest.UsingPostgres() {
		t.Skip("needs PostgreSQL (GATEHOUSE_TEST_DATABASE_URL): the test cuts the server's connection to it")
	}
	t.Parallel()
	env := apptest.New(t)
	mustTenantCLI(t, env, "acme", "Acme Coffee")
	machine := env.Run("app", "create", "--tenant", "acme", "--name", "Back office", "--type", "machine", "--scope", "customers:read", "--json")
	var app struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if machine.Code != 0 || json.Unmarshal([]byte(machine.Stdout), &app) != nil {
		t.Fatalf("app create: %d %s", machine.Code, machine.Stderr)
	}
	web := createApp(t, env, "--tenant", "acme", "--name", "Shop", "--type", "web", "--first-party", "--redirect-uri", shopRedirect)
	u, err := url.Parse(env.Getenv("GATEHOUSE_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := apptest.StartProxy(t, u.Host)
	u.Host = proxy.Addr()
	env.Set("GATEHOUSE_DATABASE_URL", u.String())
	srv := env.Serve()
	host := "acme.localhost"
	ann := srv.Visitor(t)
	wantRedirect(t, signup(ann, host, "ann@example.com", "correct horse battery", nil), "/")
	signedIn := ann.Cookies(host)
	// A refresh token from the code flow, to be spent while the database
	// is cut.
	shop := newBrandApp(t, srv, host, web.ClientID, web.ClientSecret, shopRedirect)
	verifier := oauth2.GenerateVerifier()
	cb := appCallback(t, follow(t, ann, host, ann.Get(host, shop.authorizePath("s1", verifier)), nil), shopRedirect)
	tok, err := shop.conf.Exchange(shop.ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("code exchange: %v (refresh token %q)", err, tok.RefreshToken)
	}

	proxy.Cut()
	want503 := func(what string, p apptest.Page, contains ...string) {
		t.Helper()
		if p.StatusCode != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" {
			t.Fatalf("%s with the database cut: %d, Retry-After %q\n%.400s", what, p.StatusCode, p.Header.Get("Retry-After"), p.Body)
		}
		for _, s := range contains {
			if !strings.Contains(p.Body, s) {
				t.Fatalf("%s: the 503 does not say %q:\n%.600s", what, s, p.Body)
			}
		}
		for _, s := range []string{"Something went wrong", "dial", "connection", "EOF", "goroutine"} {
			if strings.Contains(p.Body, s) {
				t.Fatalf("%s: the 503 shows %q:\n%.600s", what, s, p.Body)
			}
		}
	}
	// The forms answer on their own themed page, with the message where a
	// wrong password would be; other pages get the brand's 503 page.
	want503("hosted login", login(srv.Visitor(t), host, "ann@example.com", "correct horse battery"), "Acme Coffee", "/theme.css?v=", "briefly unavailable")
	want503("hosted sign-up", signup(srv.Visitor(t), host, "bob@example.com", "correct horse battery", nil), "Acme Coffee", "briefly unavailable")
	returning := srv.Visitor(t)
	returning.SetCookies(host, signedIn)
	want503("hosted account page", returning.Get(host, "/account"), `data-testid="brand-unavailable"`, "Acme Coffee is briefly unavailable", "/theme.css?v=")
	staff := srv.Visitor(t)
	want503("console login", staff.Post("console.localhost", "/login", url.Values{"email": {"op@example.com"}, "password": {"whatever it is"}}),
		`data-testid="console-unavailable"`)
	req, _ := http.NewRequest(http.MethodPost, srv.URL(host, "/api/v1/password/forgot"), strings.NewReader(`{"client_id":"shop","email":"ann@example.com"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, body := srv.Do(t, req)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(body, `"type":"https://gatehouse.dev/problems/unavailable"`) {
		t.Fatalf("API with the database cut: %d %q %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), body)
	}
	// The token endpoint says so in OAuth's own words (RFC 6749 §5.2's
	// error object), never as a server_error.
	tokenReq, _ := http.NewRequest(http.MethodPost, srv.URL(host, "/oauth/token"), strings.NewReader("grant_type=client_credentials&scope=customers:read"))
	tokenReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tokenReq.SetBasicAuth(app.ClientID, app.ClientSecret)
	resp, body = srv.Do(t, tokenReq)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"error":"temporarily_unavailable"`) {
		t.Fatalf("token endpoint with the database cut: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	refreshReq, _ := http.NewRequest(http.MethodPost, srv.URL(host, "/oauth/token"), strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode()))
	refreshReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	refreshReq.SetBasicAuth(web.ClientID, web.ClientSecret)
	resp, body = srv.Do(t, refreshReq)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"error":"temporarily_unavailable"`) {
		t.Fatalf("refresh_token grant with the database cut: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if code, word, body := readyz(t, srv); code != 503 || word != "unavailable" || !strings.Contains(body, `"database":"unavailable"`) {
		t.Fatalf("/readyz with the database cut: %d %s", code, body)
	}

	proxy.Restore()
	apptest.Eventually(t, 10*time.Second, func() error {
		if p := login(srv.Visitor(t), host, "ann@example.com", "correct horse battery"); p.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("login after the restore: %d", p.StatusCode)
		}
		return nil
	})
	if code, word, body := readyz(t, srv); code != 200 || word != "ok" {
		t.Fatalf("/readyz after the restore: %d %s", code, body)
	}
	// The refresh refused with 503 spent nothing: the token still rotates.
	if _, err := shop.conf.TokenSource(shop.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err != nil {
		t.Fatalf("refresh after the restore: %v", err)
	}
	// Nothing of the sign-up sent during the cut was written; sent again
	// now, it is all there: the account, its link and its mail's job.
	count := func(table, where string, args ...any) int64 {
		var n int64
		env.DB().Gorm.Table(table).Where(where, args...).Count(&n)
		return n
	}
	if n := count("customers", "email = ?", "bob@example.com"); n != 0 {
		t.Fatalf("the sign-up refused with 503 left %d customers", n)
	}
	wantRedirect(t, signup(srv.Visitor(t), host, "bob@example.com", "correct horse battery", nil), "/")
	bob := customerID(t, env, "bob@example.com")
	if n := count("one_time_tokens", "subject_id = ?", bob); n != 1 {
		t.Fatalf("bob has %d verification tokens", n)
	}
}
