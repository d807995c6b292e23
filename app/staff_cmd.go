package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse/app/access"
	"gatehouse/app/apperr"
	"gatehouse/app/audit"
	"gatehouse/app/db"
	"gatehouse/app/passwords"
	"gatehouse/config"
	"gatehouse/tenants"
)

const staffUsage = `usage:
  gatehouse staff create --email E --role platform-admin|owner|admin|support [--tenant S]   (password on stdin)
  gatehouse staff grant --email E --role owner|admin|support --tenant S
  gatehouse staff password --email E   (password on stdin)
  gatehouse staff list [--tenant S]`

// runStaff manages console staff from the command line. Passwords are read
// from the first line of stdin, never from a flag, so they stay out of
// shell history and process listings.
func runStaff(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, staffUsage)
		return exitUsage
	}
	sub := args[0]
	var email, role, slug string
	cfg, fs, ok := loadConfig(env, "staff "+sub, args[1:], func(fs *flag.FlagSet) {
		if sub != "list" {
			fs.StringVar(&email, "email", "", "the staff member's email address")
		}
		if sub == "create" || sub == "grant" {
			fs.StringVar(&role, "role", "", "platform-admin, owner, admin or support")
		}
		if sub != "password" {
			fs.StringVar(&slug, "tenant", "", "the tenant's slug (for owner, admin and support)")
		}
	})
	if !ok {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "gatehouse: unexpected argument %q\n%s\n", fs.Arg(0), staffUsage)
		return exitUsage
	}
	switch sub {
	case "create", "grant", "password", "list":
	default:
		fmt.Fprintln(env.Stderr, staffUsage)
		return exitUsage
	}
	cliFallbacks(cfg, env)
	if err := cfg.Validate(config.NeedDatabase); err != nil {
		return fail(env, fmt.Errorf("%w: %v", errUsage, err))
	}
	log := newLogger(cfg, env.Stderr)
	database, err := openCurrentDB(ctx, cfg, log)
	if err != nil {
		return fail(env, err)
	}
	defer database.Close()
	svc, closeSvc, err := cliStaffService(ctx, env, cfg, database, log)
	if err != nil {
		return fail(env, err)
	}
	defer closeSvc()
	tenantSvc := tenants.NewService(tenants.NewStore(database.Gorm), nil, cfg.BaseDomain, log)
	operator := access.Actor{Email: "operator (cli)"}

	// domainOf turns --role and --tenant into the casbin domain.
	domainOf := func(r access.Role) (string, error) {
		if r == access.PlatformAdmin {
			if slug != "" {
				return "", apperr.Field("tenant", "platform-admin holds no tenant; leave --tenant out")
			}
			return access.PlatformDomain, nil
		}
		if slug == "" {
			return "", apperr.Field("tenant", "the role %s needs --tenant", r)
		}
		t, err := tenantSvc.BySlug(ctx, slug)
		if err != nil {
			return "", apperr.Field("tenant", "no tenant has the slug %q", slug)
		}
		return access.TenantDomain(t.ID), nil
	}

	switch sub {
	case "create":
		r, err := access.ParseRole(role)
		if err != nil {
			return fail(env, err)
		}
		domain, err := domainOf(r)
		if err != nil {
			return fail(env, err)
		}
		password, err := readPassword(env.Stdin)
		if err != nil {
			return fail(env, err)
		}
		st, err := svc.Create(ctx, operator, access.NewStaff{Email: email, Password: password, Role: r, Domain: domain})
		if err != nil {
			return fail(env, err)
		}
		fmt.Fprintf(env.Stdout, "created staff %s (%s)\n", st.Email, r.Label())
		fmt.Fprintf(env.Stdout, "  console: %s/login\n", cfg.PublicURL("console."+cfg.BaseDomain))
	case "grant":
		r, err := access.ParseRole(role)
		if err != nil {
			return fail(env, err)
		}
		domain, err := domainOf(r)
		if err != nil {
			return fail(env, err)
		}
		st, err := svc.ByEmail(ctx, email)
		if err != nil {
			return fail(env, apperr.Field("email", "no staff member has the email %q", email))
		}
		if err := svc.Grant(ctx, operator, st.ID, r, domain); err != nil {
			return fail(env, err)
		}
		fmt.Fprintf(env.Stdout, "%s is now %s\n", st.Email, r.Label())
	case "password":
		password, err := readPassword(env.Stdin)
		if err != nil {
			return fail(env, err)
		}
		st, err := svc.SetPassword(ctx, operator, email, password)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return fail(env, apperr.Field("email", "no staff member has the email %q", email))
			}
			return fail(env, err)
		}
		fmt.Fprintf(env.Stdout, "password of %s changed\n", st.Email)
	case "list":
		return listStaff(ctx, env, svc, tenantSvc, slug)
	}
	return exitOK
}

func listStaff(ctx context.Context, env *Env, svc *access.Service, tenantSvc *tenants.Service, slug string) int {
	if slug == "" {
		fmt.Fprintln(env.Stderr, "gatehouse: staff list needs --tenant S")
		return exitUsage
	}
	t, err := tenantSvc.BySlug(ctx, slug)
	if err != nil {
		return fail(env, apperr.Field("tenant", "no tenant has the slug %q", slug))
	}
	members, err := svc.Members(ctx, t.ID)
	if err != nil {
		return fail(env, err)
	}
	if len(members) == 0 {
		fmt.Fprintf(env.Stdout, "tenant %s has no staff yet\n", slug)
		return exitOK
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tROLE\tSTATUS")
	for _, m := range members {
		fmt.Fprintf(w, "%s\t%s\t%s\n", m.Email, m.Role, m.Status)
	}
	w.Flush()
	return exitOK
}

// readPassword reads the first line of r, without its line ending. Spaces
// are part of a password and are kept.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", apperr.Field("password", "give the password on the first line of stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", apperr.Field("password", "give the password on the first line of stdin")
	}
	return line, nil
}

// cliStaffService builds the staff service for a CLI run. Role changes
// tick the shared policy clock in Redis when a server's Redis is reachable,
// so running servers apply them at once; otherwise within 30 seconds.
func cliStaffService(ctx context.Context, env *Env, cfg *config.Config, database *db.DB, log *slog.Logger) (*access.Service, func(), error) {
	var clock access.Clock = &access.LocalClock{}
	closeFn := func() {}
	if cfg.RedisURL != "" {
		if rc, err := openRedis(ctx, cfg.RedisURL); err == nil {
			clock = policyClock(rc)
			closeFn = func() { rc.client.Close() }
		} else {
			fmt.Fprintf(env.Stderr, "gatehouse: note: %v; running servers will see role changes within 30 seconds\n", err)
		}
	}
	rbac, err := access.NewRBAC(ctx, database.Gorm, clock, 0)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	hasher := passwords.NewHasher(passwords.Default, 0, 10*time.Second)
	return access.NewService(database.Gorm, rbac, hasher, passwords.NewPolicy(), nil, audit.NewRecorder(database.Gorm, log)), closeFn, nil
}
