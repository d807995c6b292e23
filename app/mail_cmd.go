package app

import (
	"context"
	"flag"
	"fmt"

	"gatehouse/app/apperr"
	"gatehouse/app/mail"
	"gatehouse/config"
	"gatehouse/jobs"
	"gatehouse/tenants"
	"gatehouse/views/email"
)

// runMail queues a test message through the real path (queue, worker,
// SMTP or outbox), so an operator can check mail delivery end to end.
func runMail(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintln(env.Stderr, "usage: gatehouse mail test --to EMAIL [--tenant SLUG]")
		return exitUsage
	}
	var to, slug string
	cfg, _, ok := loadConfig(env, "mail test", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "recipient address")
		fs.StringVar(&slug, "tenant", "", "brand the message as this tenant")
	})
	if !ok {
		return exitUsage
	}
	if to == "" {
		return fail(env, apperr.Field("to", "is required"))
	}
	cliFallbacks(cfg, env)
	needs := []config.Need{config.NeedRedis}
	if slug != "" {
		needs = append(needs, config.NeedDatabase)
	}
	if err := cfg.Validate(needs...); err != nil {
		return fail(env, fmt.Errorf("%w: %v", errUsage, err))
	}
	log := newLogger(cfg, env.Stderr)

	brand := email.Brand{Name: "Gatehouse", PrimaryColor: tenants.DefaultTheme().PrimaryColor, ButtonTextColor: "#ffffff"}
	var tenantID = jobs.SendMail{}.TenantID
	if slug != "" {
		database, err := openDB(ctx, cfg, log)
		if err != nil {
			return fail(env, err)
		}
		defer database.Close()
		t, err := tenants.NewStore(database.Gorm).BySlug(ctx, slug)
		if err != nil {
			return fail(env, apperr.Field("tenant", "no tenant has the slug %q", slug))
		}
		brand = mail.BrandOf(t, cfg.PublicURL(t.Host(cfg.BaseDomain)))
		tenantID = t.ID
	}
	msg, err := mail.TestMessage(ctx, brand, cfg.MailFrom, to)
	if err != nil {
		return fail(env, err)
	}
	msg.TenantID = tenantID

	rc, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		return fail(env, err)
	}
	defer rc.client.Close()
	queue := jobs.NewClient(rc.asynq)
	defer queue.Close()
	if err := queue.EnqueueMail(ctx, msg); err != nil {
		return fail(env, err)
	}
	fmt.Fprintf(env.Stdout, "queued a test message to %s; a worker delivers it\n", to)
	return exitOK
}
