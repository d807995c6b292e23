package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// RedisKind is how Gatehouse reaches Redis.
type RedisKind int

// The three deployments GATEHOUSE_REDIS_URL can name.
const (
	RedisSingle   RedisKind = iota // redis:// or rediss://: one server
	RedisSentinel                  // redis-sentinel://: a master found through Sentinels, followed on failover
	RedisCluster                   // redis-cluster://: a Redis Cluster, from any of its nodes
)

// RedisTarget is a parsed GATEHOUSE_REDIS_URL.
type RedisTarget struct {
	Kind     RedisKind
	Addrs    []string // the server; the Sentinels; or the cluster's seed nodes
	Master   string   // Sentinel only: the master's name
	DB       int      // 0 for a cluster, which has only database 0
	Username string
	Password string
	// SentinelPassword authenticates to the Sentinels themselves
	// (?sentinel_password=), when they require it.
	SentinelPassword string
	TLS              bool // rediss://
	URL              string
}

const redisForms = "redis://[user:pass@]host:port/db, redis-sentinel://[user:pass@]host:port[,host:port…]/master[/db] or redis-cluster://[user:pass@]host:port[,host:port…]"

// ParseRedisURL reads GATEHOUSE_REDIS_URL. Its errors say what is wrong
// and which form was expected, without repeating a password.
func ParseRedisURL(raw string) (RedisTarget, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return RedisTarget{}, fmt.Errorf("not a URL; use %s", redisForms)
	}
	t := RedisTarget{URL: raw}
	switch scheme {
	case "redis", "rediss":
		return parseSingle(raw, scheme == "rediss")
	case "redis-sentinel":
		t.Kind = RedisSentinel
	case "redis-cluster":
		t.Kind = RedisCluster
	default:
		return RedisTarget{}, fmt.Errorf("scheme must be redis://, rediss://, redis-sentinel:// or redis-cluster://, not %q", scheme+"://")
	}
	rest, query, _ := strings.Cut(rest, "?")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		user, err := url.Parse("x://" + rest[:i+1] + "h")
		if err != nil {
			return RedisTarget{}, errors.New("the user and password part is malformed (escape special characters with %XX)")
		}
		t.Username = user.User.Username()
		t.Password, _ = user.User.Password()
		rest = rest[i+1:]
	}
	hosts, path, _ := strings.Cut(rest, "/")
	addrs, err := parseAddrs(hosts)
	if err != nil {
		return RedisTarget{}, err
	}
	t.Addrs = addrs
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) == 1 && parts[0] == "" {
		parts = nil
	}
	switch t.Kind {
	case RedisSentinel:
		if len(parts) == 0 || len(parts) > 2 {
			return RedisTarget{}, errors.New("redis-sentinel:// needs the master's name after the Sentinels, and at most a database number after it: redis-sentinel://host:26379,host2:26379/mymaster/0")
		}
		t.Master = parts[0]
		if len(parts) == 2 {
			if t.DB, err = parseDB(parts[1]); err != nil {
				return RedisTarget{}, err
			}
		}
	case RedisCluster:
		if len(parts) > 1 || len(parts) == 1 && parts[0] != "0" {
			return RedisTarget{}, errors.New("redis-cluster:// takes no database number: a Redis Cluster has only database 0")
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return RedisTarget{}, errors.New("the query part is malformed")
	}
	for k := range q {
		if k != "sentinel_password" || t.Kind != RedisSentinel {
			return RedisTarget{}, fmt.Errorf("unknown option %q (redis-sentinel:// takes sentinel_password)", k)
		}
	}
	t.SentinelPassword = q.Get("sentinel_password")
	return t, nil
}

func parseSingle(raw string, tls bool) (RedisTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return RedisTarget{}, errors.New("not a valid URL")
	}
	if u.Hostname() == "" {
		return RedisTarget{}, errors.New("names no host")
	}
	if strings.Contains(u.Host, ",") {
		return RedisTarget{}, errors.New("lists several hosts; use redis-sentinel://…/master or redis-cluster:// for more than one")
	}
	t := RedisTarget{Kind: RedisSingle, TLS: tls, URL: raw, Username: u.User.Username()}
	t.Password, _ = u.User.Password()
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	t.Addrs = []string{net.JoinHostPort(u.Hostname(), port)}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if t.DB, err = parseDB(p); err != nil {
			return RedisTarget{}, err
		}
	}
	return t, nil
}

func parseAddrs(hosts string) ([]string, error) {
	if hosts == "" {
		return nil, errors.New("names no host")
	}
	var out []string
	for _, h := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return nil, fmt.Errorf("%q must be host:port", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q: the port must be a number from 1 to 65535", h)
		}
		out = append(out, h)
	}
	return out, nil
}

func parseDB(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 15 {
		return 0, fmt.Errorf("the database %q must be a number from 0 to 15", s)
	}
	return n, nil
}
