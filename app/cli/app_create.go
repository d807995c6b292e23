package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/app/apps"
)

func (r *runner) appCreateCmd() *cobra.Command {
	var slug, typ string
	var in apps.New
	var asJSON bool
	c := &cobra.Command{
		Use:   "create --tenant S --name N --type web|spa|native|machine [--redirect-uri U]... [--json]",
		Short: "Register an app; prints its client id, and its secret once",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			a, err := r.tenantApps(c.Context(), slug)
			if err != nil {
				return err
			}
			defer a.close()
			in.Type = apps.Type(typ)
			app, secret, err := a.apps.Create(c.Context(), in)
			if err != nil {
				return err
			}
			a.record(c.Context(), "app.created", app.ClientID, map[string]any{"name": app.Name, "type": string(app.Type)})
			issuer := r.cfg.PublicURL(a.tenant.Host(r.cfg.BaseDomain))
			if asJSON {
				return r.printJSON(appJSON(app, secret, issuer))
			}
			r.printf("created %s app %q for %s\n", app.Type, app.Name, a.tenant.Slug)
			r.printf("  client id:     %s\n", app.ClientID)
			if secret != "" {
				r.printf("  client secret: %s\n", secret)
				r.printf("  (shown once: store it now; `gatehouse app rotate-secret` makes a new one)\n")
			}
			r.printf("  issuer:        %s\n", issuer)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&slug, "tenant", "", "the tenant's slug")
	f.StringVar(&in.Name, "name", "", "the app's name, as admins see it")
	f.StringVar(&typ, "type", "", "web, spa, native or machine")
	f.StringArrayVar(&in.RedirectURIs, "redirect-uri", nil, "an exact redirect URI (repeatable)")
	f.StringArrayVar(&in.PostLogoutURIs, "post-logout-uri", nil, "an exact post-logout redirect URI (repeatable)")
	f.StringArrayVar(&in.CORSOrigins, "cors-origin", nil, "an origin that may call the token endpoint (spa; repeatable)")
	f.StringArrayVar(&in.Scopes, "scope", nil, "an API scope the app may ask for (repeatable)")
	f.BoolVar(&in.FirstParty, "first-party", false, "the brand's own app: never asks for consent")
	f.StringVar(&in.SigningAlg, "signing-alg", "", "ES256 (default) or RS256")
	f.DurationVar(&in.AccessTokenTTL, "access-token-ttl", 0, "access token lifetime (default 15m, at most 24h)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
