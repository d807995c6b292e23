package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// postgres is a private PostgreSQL cluster made with initdb in the soak's
// temporary directory and run with pg_ctl on a port of its own. The
// machine's shared cluster is never touched.
type postgres struct {
	bin  string // directory of initdb, pg_ctl, postgres
	dir  string // data directory, owned by the unprivileged user
	port int
	as   []string // runuser prefix when the soak runs as root
}

// newPostgres prepares the data directory under tmp. PostgreSQL refuses to
// run as root, so as root it runs as the "postgres" OS user.
func newPostgres(tmp, bin string, port int) (*postgres, error) {
	pg := &postgres{bin: bin, dir: filepath.Join(tmp, "pg"), port: port}
	if err := os.MkdirAll(pg.dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs an unprivileged user: %w (apt-get install postgresql creates \"postgres\")", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(pg.dir, uid, gid); err != nil {
			return nil, err
		}
		// The parent must be traversable by that user.
		if err := os.Chmod(tmp, 0o755); err != nil {
			return nil, err
		}
		pg.as = []string{"runuser", "-u", "postgres", "--"}
	}
	return pg, nil
}

// run runs one PostgreSQL tool to completion. Its output goes to a file,
// not a pipe: a postmaster that pg_ctl starts inherits the descriptors and
// would hold a pipe open for as long as it runs.
func (pg *postgres) run(timeout time.Duration, tool string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append(append(append([]string{}, pg.as...), filepath.Join(pg.bin, tool)), args...)
	out, err := os.CreateTemp("", "gatehouse-soak-pgtool-")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = pg.dir, out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, b)
	}
	return nil
}

// init creates the cluster and starts it.
func (pg *postgres) init() error {
	if err := pg.run(2*time.Minute, "initdb", "-D", pg.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		return err
	}
	return pg.start()
}

func (pg *postgres) start() error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c max_connections=200", pg.port, pg.dir)
	return pg.run(2*time.Minute, "pg_ctl", "-D", pg.dir, "-l", filepath.Join(pg.dir, "server.log"), "-w", "-t", "60", "-o", opts, "start")
}

// restart is the fault: pg_ctl restart in fast mode, which ends every
// connection, as a real maintenance restart does.
func (pg *postgres) restart() error {
	return pg.run(2*time.Minute, "pg_ctl", "-D", pg.dir, "-l", filepath.Join(pg.dir, "server.log"), "-w", "-t", "60", "-m", "fast", "restart")
}

// stop ends the cluster at clean-up.
func (pg *postgres) stop() {
	_ = pg.run(30*time.Second, "pg_ctl", "-D", pg.dir, "-w", "-t", "20", "-m", "immediate", "stop")
}

func (pg *postgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// open returns a small pool for the soak's own checks.
func (pg *postgres) open() (*sql.DB, error) {
	d, err := sql.Open("pgx", pg.url())
	if err != nil {
		return nil, err
	}
	d.SetMaxOpenConns(4)
	return d, nil
}
