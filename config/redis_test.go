package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRedisURL(t *testing.T) {
	ok := []struct {
		name, url string
		want      RedisTarget
	}{
		{"single", "redis://u:p%40ss@127.0.0.1:6380/3", RedisTarget{Kind: RedisSingle, Addrs: []string{"127.0.0.1:6380"}, DB: 3, Username: "u", Password: "p@ss"}},
		{"single default port", "rediss://cache.internal", RedisTarget{Kind: RedisSingle, Addrs: []string{"cache.internal:6379"}, TLS: true}},
		{"sentinel", "redis-sentinel://host:26379,host2:26379/mymaster/0", RedisTarget{Kind: RedisSentinel, Addrs: []string{"host:26379", "host2:26379"}, Master: "mymaster"}},
		{"sentinel db and auth", "redis-sentinel://:secret@10.0.0.1:26379/cache/2?sentinel_password=s2", RedisTarget{Kind: RedisSentinel, Addrs: []string{"10.0.0.1:26379"}, Master: "cache", DB: 2, Password: "secret", SentinelPassword: "s2"}},
		{"cluster", "redis-cluster://h1:7000,h2:7001", RedisTarget{Kind: RedisCluster, Addrs: []string{"h1:7000", "h2:7001"}}},
		{"cluster db 0", "redis-cluster://user:pw@h1:7000/0", RedisTarget{Kind: RedisCluster, Addrs: []string{"h1:7000"}, Username: "user", Password: "pw"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRedisURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.URL = tc.url
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	bad := []struct{ name, url, says string }{
		{"no scheme", "127.0.0.1:6379", "not a URL"},
		{"other scheme", "http://127.0.0.1:6379", `not "http://"`},
		{"sentinel without master", "redis-sentinel://host:26379", "master's name"},
		{"sentinel without master, trailing slash", "redis-sentinel://host:26379/", "master's name"},
		{"sentinel extra path", "redis-sentinel://host:26379/m/0/x", "master's name"},
		{"sentinel bad db", "redis-sentinel://host:26379/m/x", `database "x"`},
		{"sentinel db out of range", "redis-sentinel://host:26379/m/16", "0 to 15"},
		{"sentinel host without port", "redis-sentinel://host,host2:26379/m", `"host" must be host:port`},
		{"sentinel empty host", "redis-sentinel://:26379/m", `":26379" must be host:port`},
		{"sentinel bad port", "redis-sentinel://host:0/m", "1 to 65535"},
		{"sentinel no hosts", "redis-sentinel:///m", "names no host"},
		{"sentinel unknown option", "redis-sentinel://h:1/m?tls=1", `unknown option "tls"`},
		{"cluster with db", "redis-cluster://h1:7000/2", "only database 0"},
		{"cluster empty entry", "redis-cluster://h1:7000,,h2:7001", `"" must be host:port`},
		{"cluster option", "redis-cluster://h1:7000?sentinel_password=x", "unknown option"},
		{"single with two hosts", "redis://h1:6379,h2:6379/0", "several hosts"},
		{"single bad db", "redis://h1:6379/abc", `database "abc"`},
		{"single no host", "redis:///0", "names no host"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRedisURL(tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %v; want one saying %q", err, tc.says)
			}
		})
	}
	t.Run("password never in the error", func(t *testing.T) {
		_, err := ParseRedisURL("redis-sentinel://u:hunter2@host/m")
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("error %v", err)
		}
	})
}
