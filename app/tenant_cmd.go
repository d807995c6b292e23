package app

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"

	"gatehouse/app/apperr"
	"gatehouse/config"
	"gatehouse/tenants"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

const tenantUsage = `usage:
  gatehouse tenant create --slug S --name N [--domain D]...
  gatehouse tenant list
  gatehouse tenant update --slug S --brand-login-only=true|false
  gatehouse tenant suspend --slug S
  gatehouse tenant resume --slug S
  gatehouse tenant domain add --slug S --domain D
  gatehouse tenant domain remove --slug S --domain D`

// runTenant manages tenants from the command line. Changes are announced
// over Redis when it is reachable, so running servers serve them at once.
func runTenant(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, tenantUsage)
		return exitUsage
	}
	sub := args[0]
	args = args[1:]
	if sub == "domain" {
		if len(args) == 0 || (args[0] != "add" && args[0] != "remove") {
			fmt.Fprintln(env.Stderr, tenantUsage)
			return exitUsage
		}
		sub, args = "domain "+args[0], args[1:]
	}
	var (
		slug, name string
		domains    stringList
		brandOnly  string
	)
	cfg, fs, ok := loadConfig(env, "tenant "+sub, args, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "slug", "", "the tenant's slug: its host is <slug>.<base-domain>")
		if sub == "create" {
			fs.StringVar(&name, "name", "", "the brand's name, as customers see it")
		}
		if sub == "update" {
			fs.StringVar(&brandOnly, "brand-login-only", "", "true: customers sign in only through the brand's own OpenID Connect or OAuth 2.0 app; false: passwords too")
		}
		if sub == "create" || strings.HasPrefix(sub, "domain") {
			fs.Var(&domains, "domain", "a custom domain that serves the tenant (repeatable with create)")
		}
	})
	if !ok {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "gatehouse: unexpected argument %q\n%s\n", fs.Arg(0), tenantUsage)
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
	pub, closePub := announcer(ctx, env, cfg, log)
	defer closePub()
	svc := tenants.NewService(tenants.NewStore(database.Gorm), pub, cfg.BaseDomain, log)

	switch sub {
	case "create":
		if slug == "" {
			return fail(env, apperr.Field("slug", "is required"))
		}
		t, err := svc.Create(ctx, tenants.NewTenant{Slug: slug, Name: name, Domains: domains})
		if err != nil {
			return fail(env, err)
		}
		fmt.Fprintf(env.Stdout, "created tenant %s (%s)\n", t.Slug, t.Name)
		fmt.Fprintf(env.Stdout, "  login page: %s/login\n", cfg.PublicURL(t.Slug+"."+cfg.BaseDomain))
		for _, d := range t.Domains {
			fmt.Fprintf(env.Stdout, "  also on:    %s/login\n", cfg.PublicURL(d.Hostname))
		}
		return exitOK
	case "list":
		list, err := svc.List(ctx)
		if err != nil {
			return fail(env, err)
		}
		if len(list) == 0 {
			fmt.Fprintln(env.Stdout, "no tenants yet: gatehouse tenant create --slug S --name N")
			return exitOK
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SLUG\tNAME\tSTATUS\tDOMAINS\tCREATED")
		for _, t := range list {
			var ds []string
			for _, d := range t.Domains {
				h := d.Hostname
				if !d.Verified {
					h += " (unverified)"
				}
				ds = append(ds, h)
			}
			if len(ds) == 0 {
				ds = []string{"-"}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Slug, t.Name, t.Status, strings.Join(ds, ", "), t.CreatedAt.Format("2006-01-02"))
		}
		w.Flush()
		return exitOK
	}

	// The remaining subcommands act on one existing tenant.
	if slug == "" {
		return fail(env, apperr.Field("slug", "is required"))
	}
	t, err := svc.BySlug(ctx, slug)
	if err != nil {
		return fail(env, apperr.Field("slug", "no tenant has the slug %q", slug))
	}
	switch sub {
	case "suspend", "resume":
		status := tenants.Suspended
		if sub == "resume" {
			status = tenants.Active
		}
		if err := svc.SetStatus(ctx, t.ID, status); err != nil {
			return fail(env, err)
		}
		fmt.Fprintf(env.Stdout, "tenant %s is now %s\n", t.Slug, status)
	case "update":
		if brandOnly == "" {
			return fail(env, apperr.Field("brand-login-only", "give --brand-login-only=true or --brand-login-only=false"))
		}
		on, err := strconv.ParseBool(brandOnly)
		if err != nil {
			return fail(env, apperr.Field("brand-login-only", "must be true or false, not %q", brandOnly))
		}
		settings := t.Settings
		settings.BrandLoginOnly = on
		if _, err := svc.UpdateSettings(ctx, t.ID, settings); err != nil {
			return fail(env, err)
		}
		fmt.Fprintf(env.Stdout, "tenant %s: brand login only is %s\n", t.Slug, map[bool]string{true: "on", false: "off"}[on])
	case "domain add", "domain remove":
		if len(domains) != 1 {
			return fail(env, apperr.Field("domain", "give exactly one --domain"))
		}
		if sub == "domain add" {
			err = svc.AddDomain(ctx, t.ID, domains[0], true)
		} else {
			err = svc.RemoveDomain(ctx, t.ID, domains[0])
		}
		if err != nil {
			return fail(env, err)
		}
		fmt.Fprintf(env.Stdout, "tenant %s: %s %s\n", t.Slug, strings.TrimPrefix(sub, "domain "), domains[0])
	default:
		fmt.Fprintln(env.Stderr, tenantUsage)
		return exitUsage
	}
	return exitOK
}

// announcer returns a publisher on the configured Redis, or nil (with a note)
// when none is reachable: servers then see the change when their cache entry
// expires, within a minute.
func announcer(ctx context.Context, env *Env, cfg *config.Config, log *slog.Logger) (tenants.Publisher, func()) {
	if cfg.RedisURL == "" {
		return nil, func() {}
	}
	rc, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gatehouse: note: %v; running servers will see this change within a minute\n", err)
		return nil, func() {}
	}
	return tenants.NewBus(rc.client, rc.tenantChannel(), log), func() { rc.client.Close() }
}
