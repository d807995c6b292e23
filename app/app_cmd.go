package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse/app/apperr"
	"gatehouse/app/apps"
	"gatehouse/app/audit"
	"gatehouse/config"
	"gatehouse/tenants"
)

const appUsage = `usage:
  gatehouse app create --tenant S --name N --type web|spa|native|machine [--redirect-uri U]...
                       [--post-logout-uri U]... [--cors-origin O]... [--scope S]... [--first-party]
                       [--signing-alg ES256|RS256] [--access-token-ttl D] [--json]
  gatehouse app list --tenant S [--json]
  gatehouse app rotate-secret --tenant S --client-id C [--grace D] [--json]
  gatehouse app delete --tenant S --client-id C`

// runApp manages a tenant's OAuth clients. A secret is printed once, when
// it is made, and never again.
func runApp(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, appUsage)
		return exitUsage
	}
	sub, args := args[0], args[1:]
	if sub != "create" && sub != "list" && sub != "rotate-secret" && sub != "delete" {
		fmt.Fprintln(env.Stderr, appUsage)
		return exitUsage
	}
	var (
		slug, name, typ, clientID, alg string
		redirects, logouts, origins    stringList
		scopes                         stringList
		firstParty, asJSON             bool
		accessTTL, grace               time.Duration
	)
	cfg, fs, ok := loadConfig(env, "app "+sub, args, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "tenant", "", "the tenant's slug")
		switch sub {
		case "create":
			fs.StringVar(&name, "name", "", "the app's name, as admins see it")
			fs.StringVar(&typ, "type", "", "web, spa, native or machine")
			fs.Var(&redirects, "redirect-uri", "an exact redirect URI (repeatable)")
			fs.Var(&logouts, "post-logout-uri", "an exact post-logout redirect URI (repeatable)")
			fs.Var(&origins, "cors-origin", "an origin that may call the token endpoint (spa; repeatable)")
			fs.Var(&scopes, "scope", "an API scope the app may ask for (repeatable)")
			fs.BoolVar(&firstParty, "first-party", false, "the brand's own app: never asks for consent")
			fs.StringVar(&alg, "signing-alg", "", "ES256 (default) or RS256")
			fs.DurationVar(&accessTTL, "access-token-ttl", 0, "access token lifetime (default 15m, at most 24h)")
		case "rotate-secret", "delete":
			fs.StringVar(&clientID, "client-id", "", "the app's client id")
		}
		if sub == "rotate-secret" {
			fs.DurationVar(&grace, "grace", 0, "how long the current secret keeps working (for example 24h; default 0)")
		}
		if sub != "delete" {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		}
	})
	if !ok {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "gatehouse: unexpected argument %q\n%s\n", fs.Arg(0), appUsage)
		return exitUsage
	}
	if slug == "" {
		return fail(env, apperr.Field("tenant", "is required"))
	}
	if (sub == "rotate-secret" || sub == "delete") && clientID == "" {
		return fail(env, apperr.Field("client-id", "is required"))
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
	t, err := tenants.NewStore(database.Gorm).BySlug(ctx, slug)
	if err != nil {
		return fail(env, apperr.Field("tenant", "no tenant has the slug %q", slug))
	}
	store := apps.NewStore(database.Gorm).For(t.ID)
	rec := audit.NewRecorder(database.Gorm, log)
	record := func(action, target string, detail map[string]any) {
		_ = rec.Record(ctx, audit.Event{TenantID: t.ID, Actor: "cli", Action: action, Target: target, Detail: detail})
	}

	switch sub {
	case "create":
		a, secret, err := store.Create(ctx, apps.New{
			Name: name, Type: apps.Type(typ), RedirectURIs: redirects, PostLogoutURIs: logouts, CORSOrigins: origins,
			Scopes: scopes, FirstParty: firstParty, SigningAlg: alg, AccessTokenTTL: accessTTL,
		})
		if err != nil {
			return fail(env, err)
		}
		record("app.created", a.ClientID, map[string]any{"name": a.Name, "type": string(a.Type)})
		if asJSON {
			return printJSON(env, appJSON(a, secret, cfg.PublicURL(t.Host(cfg.BaseDomain))))
		}
		fmt.Fprintf(env.Stdout, "created %s app %q for %s\n", a.Type, a.Name, t.Slug)
		fmt.Fprintf(env.Stdout, "  client id:     %s\n", a.ClientID)
		if secret != "" {
			fmt.Fprintf(env.Stdout, "  client secret: %s\n", secret)
			fmt.Fprintln(env.Stdout, "  (shown once: store it now; `gatehouse app rotate-secret` makes a new one)")
		}
		fmt.Fprintf(env.Stdout, "  issuer:        %s\n", cfg.PublicURL(t.Host(cfg.BaseDomain)))
	case "list":
		list, err := store.List(ctx)
		if err != nil {
			return fail(env, err)
		}
		if asJSON {
			out := make([]appView, 0, len(list))
			for _, a := range list {
				out = append(out, appJSON(a, "", ""))
			}
			return printJSON(env, out)
		}
		if len(list) == 0 {
			fmt.Fprintf(env.Stdout, "no apps yet: gatehouse app create --tenant %s --name N --type web\n", t.Slug)
			return exitOK
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "CLIENT ID\tNAME\tTYPE\tREDIRECT URIS\tCREATED")
		for _, a := range list {
			uris := strings.Join(a.RedirectURIs, ", ")
			if uris == "" {
				uris = "-"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.ClientID, a.Name, a.Type, uris, a.CreatedAt.Format("2006-01-02"))
		}
		w.Flush()
	case "rotate-secret":
		secret, err := store.RotateSecret(ctx, clientID, grace)
		if err != nil {
			return fail(env, err)
		}
		record("app.secret.rotated", clientID, map[string]any{"grace_seconds": int(grace.Seconds())})
		if asJSON {
			return printJSON(env, map[string]string{"client_id": clientID, "client_secret": secret})
		}
		fmt.Fprintf(env.Stdout, "new client secret for %s: %s\n", clientID, secret)
		if grace > 0 {
			fmt.Fprintf(env.Stdout, "  the previous secret keeps working for %s\n", grace)
		} else {
			fmt.Fprintln(env.Stdout, "  the previous secret no longer works")
		}
	case "delete":
		if err := store.Delete(ctx, clientID); err != nil {
			return fail(env, err)
		}
		record("app.deleted", clientID, nil)
		fmt.Fprintf(env.Stdout, "deleted app %s and every token issued to it\n", clientID)
	}
	return exitOK
}

// appView is an app as the CLI prints it in JSON.
type appView struct {
	ClientID       string   `json:"client_id"`
	ClientSecret   string   `json:"client_secret,omitempty"`
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	Issuer         string   `json:"issuer,omitempty"`
	RedirectURIs   []string `json:"redirect_uris"`
	PostLogoutURIs []string `json:"post_logout_redirect_uris"`
	CORSOrigins    []string `json:"cors_origins,omitempty"`
	Scopes         []string `json:"scopes,omitempty"`
	FirstParty     bool     `json:"first_party"`
	SigningAlg     string   `json:"signing_alg"`
}

func appJSON(a apps.App, secret, issuer string) appView {
	v := appView{
		ClientID: a.ClientID, ClientSecret: secret, Name: a.Name, Type: string(a.Type), Issuer: issuer,
		RedirectURIs: a.RedirectURIs, PostLogoutURIs: a.PostLogoutURIs, CORSOrigins: a.CORSOrigins, Scopes: a.Scopes,
		FirstParty: a.FirstParty, SigningAlg: a.SigningAlg,
	}
	if v.RedirectURIs == nil {
		v.RedirectURIs = []string{}
	}
	if v.PostLogoutURIs == nil {
		v.PostLogoutURIs = []string{}
	}
	return v
}

func printJSON(env *Env, v any) int {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fail(env, err)
	}
	return exitOK
}
