package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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

	rp.Start()
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
