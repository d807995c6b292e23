package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"gatehouse/app/db"
	"gatehouse/config"
)

// Files in the data dir.
const (
	devDBFile     = "gatehouse.db"
	secretKeyFile = "secret.key"
	// redisAddrFile tells CLI commands where a running `serve --dev` keeps
	// its in-process Redis, so they can announce changes to it.
	redisAddrFile = "redis.addr"
	// devPortFile tells CLI commands the port of a running `serve --dev`, so
	// the links they print can be clicked.
	devPortFile = "serve.port"
)

// prepareDev fills the embedded defaults of --dev: a SQLite file and a
// generated secret key in the data dir. Redis is started by serve itself.
func prepareDev(cfg *config.Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("GATEHOUSE_DATA_DIR: cannot create %s: %v", cfg.DataDir, err)
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = filepath.Join(cfg.DataDir, devDBFile)
	}
	if cfg.SecretKey == "" {
		key, err := devSecretKey(cfg.DataDir, log)
		if err != nil {
			return err
		}
		cfg.SecretKey = key
	}
	return nil
}

// devSecretKey reads the dev master key, making it on first run. The file is
// 0600: it unseals every client secret in the dev database.
func devSecretKey(dir string, log *slog.Logger) (string, error) {
	path := filepath.Join(dir, secretKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if fi, statErr := os.Stat(path); statErr == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("secret_key_permissions_fixed", "path", path)
			if err := os.Chmod(path, 0o600); err != nil {
				return "", fmt.Errorf("secret key %s: %v", path, err)
			}
		}
		key := strings.TrimSpace(string(b))
		if _, err := config.ParseSecretKey(key); err != nil {
			return "", fmt.Errorf("secret key %s: %v", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("secret key %s: %v", path, err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	key := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("secret key %s: %v", path, err)
	}
	return key, nil
}

// cliFallbacks lets an operator command run against a dev data dir without
// any settings: it uses the dev database if one exists there, and the running
// dev server's in-process Redis if one is up. It never invents a database.
func cliFallbacks(cfg *config.Config, getenv func(string) string, note io.Writer) {
	if cfg.DatabaseURL == "" {
		path := filepath.Join(cfg.DataDir, devDBFile)
		if _, err := os.Stat(path); err == nil {
			cfg.DatabaseURL = path
			fmt.Fprintf(note, "gatehouse: GATEHOUSE_DATABASE_URL is not set; using the dev database %s\n", path)
			if getenv("GATEHOUSE_PUBLIC_SCHEME") == "" {
				cfg.PublicScheme = "http"
			}
			if b, err := os.ReadFile(filepath.Join(cfg.DataDir, devPortFile)); err == nil {
				cfg.PublicPort = strings.TrimSpace(string(b))
			}
		}
	}
	if cfg.RedisURL == "" {
		if b, err := os.ReadFile(filepath.Join(cfg.DataDir, redisAddrFile)); err == nil {
			cfg.RedisURL = "redis://" + strings.TrimSpace(string(b)) + "/0"
		}
	}
}

func openDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*db.DB, error) {
	return db.Open(ctx, cfg.DatabaseURL, log)
}

// openCurrentDB opens the database and refuses it when migrations are
// pending, for every command that reads or writes data (not migrate).
func openCurrentDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*db.DB, error) {
	d, err := openDB(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := d.CheckSchema(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// redisConn is one Redis deployment seen three ways: a go-redis client for
// pub/sub and readiness, asynq's connection options, and the pub/sub channel
// prefix. Pub/sub ignores database numbers, so the prefix carries the number
// to keep two deployments on one server apart.
type redisConn struct {
	client redis.UniversalClient
	asynq  asynq.RedisConnOpt
	prefix string
}

// openRedis connects to GATEHOUSE_REDIS_URL; go-redis's own messages go
// to log from then on (see redisLog).
func openRedis(ctx context.Context, rawURL string, log *slog.Logger) (*redisConn, error) {
	theRedisLog.use(log)
	rc, err := dialRedis(rawURL)
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_REDIS_URL: %v", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rc.client.Ping(pingCtx).Err(); err != nil {
		rc.client.Close()
		return nil, fmt.Errorf("cannot reach Redis at %s: %v", redactURL(rawURL), err)
	}
	return rc, nil
}

// dialRedis builds the clients for one of the three deployments
// GATEHOUSE_REDIS_URL names (config.ParseRedisURL): one server, a master
// behind Sentinels (go-redis and asynq follow a failover), or a cluster.
func dialRedis(rawURL string) (*redisConn, error) {
	t, err := config.ParseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	rc := &redisConn{prefix: "gatehouse:" + strconv.Itoa(t.DB) + ":"}
	switch t.Kind {
	case config.RedisSentinel:
		rc.client = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: t.Master, SentinelAddrs: t.Addrs, SentinelPassword: t.SentinelPassword,
			Username: t.Username, Password: t.Password, DB: t.DB,
		})
		rc.asynq = asynq.RedisFailoverClientOpt{
			MasterName: t.Master, SentinelAddrs: t.Addrs, SentinelPassword: t.SentinelPassword,
			Username: t.Username, Password: t.Password, DB: t.DB,
		}
	case config.RedisCluster:
		rc.client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: t.Addrs, Username: t.Username, Password: t.Password})
		rc.asynq = asynq.RedisClusterClientOpt{Addrs: t.Addrs, Username: t.Username, Password: t.Password}
	default:
		// go-redis reads the single-server URL itself, options included.
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, err
		}
		rc.client = redis.NewClient(opt)
		rc.asynq = asynq.RedisClientOpt{
			Network: opt.Network, Addr: opt.Addr, Username: opt.Username, Password: opt.Password,
			DB: opt.DB, TLSConfig: opt.TLSConfig,
		}
	}
	return rc, nil
}

func (r *redisConn) tenantChannel() string { return r.prefix + "tenants" }

// redactURL drops the password from a URL before it is printed.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// devRedis is the in-process Redis of --dev. A ticker fast-forwards its
// clock, because miniredis only expires keys when told time has passed.
type devRedis struct {
	mini     *miniredis.Miniredis
	addrFile string
	stop     chan struct{}
}

func startDevRedis(dataDir string) (*devRedis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start in-process Redis: %v", err)
	}
	d := &devRedis{mini: m, addrFile: filepath.Join(dataDir, redisAddrFile), stop: make(chan struct{})}
	if err := os.WriteFile(d.addrFile, []byte(m.Addr()+"\n"), 0o600); err != nil {
		m.Close()
		return nil, fmt.Errorf("write %s: %v", d.addrFile, err)
	}
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-t.C:
				m.FastForward(250 * time.Millisecond)
			}
		}
	}()
	return d, nil
}

func (d *devRedis) URL() string { return "redis://" + d.mini.Addr() + "/0" }

func (d *devRedis) Close() {
	close(d.stop)
	_ = os.Remove(d.addrFile)
	d.mini.Close()
}
