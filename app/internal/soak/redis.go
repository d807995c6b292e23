package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// masterName is the Sentinel name of the soak's Redis primary.
const masterName = "mymaster"

// redisSet is a Redis primary, one replica and three Sentinels on ports of
// their own. Each instance has a config file, so the roles Sentinel
// rewrites survive a restart, and an append-only file, so a stop (SHUTDOWN)
// and start keeps the queue as a real deployment would.
type redisSet struct {
	servers   []*proc // [0] starts as primary, [1] as its replica
	ports     []int
	sentinels []*proc
	sports    []int
}

func newRedisSet(tmp string, ports, sports []int, env []string) (*redisSet, error) {
	rs := &redisSet{ports: ports, sports: sports}
	for i, port := range ports {
		dir := filepath.Join(tmp, "redis-"+strconv.Itoa(port))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nappendonly yes\nappendfsync everysec\nsave \"\"\ndaemonize no\nlogfile %s\n",
			port, dir, filepath.Join(dir, "redis.log"))
		if i > 0 {
			conf += fmt.Sprintf("replicaof 127.0.0.1 %d\n", ports[0])
		}
		path := filepath.Join(dir, "redis.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		rs.servers = append(rs.servers, &proc{name: "redis-" + strconv.Itoa(port), argv: []string{"redis-server", path}, env: env, dir: dir, log: filepath.Join(dir, "stdout.log")})
	}
	for _, port := range sports {
		dir := filepath.Join(tmp, "sentinel-"+strconv.Itoa(port))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\ndaemonize no\nlogfile %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %s 2000\n"+
			"sentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
			port, dir, filepath.Join(dir, "sentinel.log"), masterName, ports[0], masterName, masterName, masterName)
		path := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		rs.sentinels = append(rs.sentinels, &proc{name: "sentinel-" + strconv.Itoa(port), argv: []string{"redis-sentinel", path}, env: env, dir: dir, log: filepath.Join(dir, "stdout.log")})
	}
	return rs, nil
}

// start runs every instance and waits until the replica is in sync and
// every Sentinel knows it.
func (rs *redisSet) start() error {
	if err := rs.startServers(); err != nil {
		return err
	}
	for _, s := range rs.sentinels {
		if err := s.start(); err != nil {
			return err
		}
	}
	return rs.waitHealthy(30 * time.Second)
}

func (rs *redisSet) startServers() error {
	for _, s := range rs.servers {
		if err := s.start(); err != nil {
			return err
		}
	}
	return nil
}

// stopServers shuts the primary and the replica down (SHUTDOWN, which
// flushes the append-only file) and waits until both have exited.
func (rs *redisSet) stopServers() {
	for _, port := range rs.ports {
		c := redis.NewClient(&redis.Options{Addr: addr(port), DialTimeout: time.Second})
		_ = c.Shutdown(context.Background()).Err()
		c.Close()
	}
	for _, s := range rs.servers {
		select {
		case <-s.exited():
		case <-time.After(10 * time.Second):
			s.kill()
		}
	}
}

// master asks a Sentinel which instance is the primary.
func (rs *redisSet) master() (string, error) {
	var lastErr error
	for _, sp := range rs.sports {
		c := redis.NewSentinelClient(&redis.Options{Addr: addr(sp), DialTimeout: time.Second})
		a, err := c.GetMasterAddrByName(context.Background(), masterName).Result()
		c.Close()
		if err == nil && len(a) == 2 {
			return a[0] + ":" + a[1], nil
		}
		lastErr = err
	}
	return "", fmt.Errorf("no Sentinel answers: %v", lastErr)
}

// failover is the fault: SENTINEL FAILOVER, then wait until every Sentinel
// names the new primary and it has its replica back.
func (rs *redisSet) failover(timeout time.Duration) (string, string, error) {
	before, err := rs.master()
	if err != nil {
		return "", "", err
	}
	c := redis.NewSentinelClient(&redis.Options{Addr: addr(rs.sports[0])})
	err = c.Failover(context.Background(), masterName).Err()
	c.Close()
	if err != nil {
		return before, "", fmt.Errorf("SENTINEL FAILOVER: %w", err)
	}
	after := before
	err = waitFor(timeout, "the Sentinels to agree on a new primary", func() bool {
		m, err := rs.master()
		after = m
		return err == nil && m != before && rs.agreed(m)
	})
	if err != nil {
		return before, after, err
	}
	// The service is back once the new primary takes writes; the old one
	// rejoining as its replica (Sentinel converts it some seconds later)
	// is redundancy, which the schedule waits for between faults.
	_, err = rs.waitPrimary(timeout)
	return before, after, err
}

// waitPrimary waits until every Sentinel names one primary and it says it
// is one.
func (rs *redisSet) waitPrimary(timeout time.Duration) (string, error) {
	var m string
	err := waitFor(timeout, "a Redis primary that takes writes", func() bool {
		var err error
		if m, err = rs.master(); err != nil || !rs.agreed(m) {
			return false
		}
		c := redis.NewClient(&redis.Options{Addr: m, DialTimeout: time.Second})
		defer c.Close()
		info, err := c.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "role:master")
	})
	return m, err
}

// quiet drops go-redis's own log lines: while Redis is stopped on purpose
// its pool reports every failed dial.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...interface{}) {}

func init() { redis.SetLogger(quiet{}) }

// agreed reports whether every Sentinel names m.
func (rs *redisSet) agreed(m string) bool {
	for _, sp := range rs.sports {
		c := redis.NewSentinelClient(&redis.Options{Addr: addr(sp), DialTimeout: time.Second})
		a, err := c.GetMasterAddrByName(context.Background(), masterName).Result()
		c.Close()
		if err != nil || len(a) != 2 || a[0]+":"+a[1] != m {
			return false
		}
	}
	return true
}

// waitHealthy waits until the primary the Sentinels name says it is the
// primary and has its replica connected and in sync.
func (rs *redisSet) waitHealthy(timeout time.Duration) error {
	return waitFor(timeout, "Redis primary with a synced replica", func() bool {
		m, err := rs.master()
		if err != nil || !rs.agreed(m) {
			return false
		}
		c := redis.NewClient(&redis.Options{Addr: m, DialTimeout: time.Second})
		defer c.Close()
		info, err := c.Info(context.Background(), "replication").Result()
		if err != nil {
			return false
		}
		return strings.Contains(info, "role:master") && strings.Contains(info, "state=online")
	})
}

// sentinelURL is the GATEHOUSE_REDIS_URL form for Sentinel (issue 16).
func (rs *redisSet) sentinelURL() string {
	hosts := make([]string, len(rs.sports))
	for i, p := range rs.sports {
		hosts[i] = addr(p)
	}
	return "redis-sentinel://" + strings.Join(hosts, ",") + "/" + masterName + "/0"
}

func (rs *redisSet) directURL() string { return "redis://" + addr(rs.ports[0]) + "/0" }

func (rs *redisSet) all() []*proc { return append(append([]*proc{}, rs.servers...), rs.sentinels...) }

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
