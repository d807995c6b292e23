package cli

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"gatehouse/app/apps"
	"gatehouse/app/audit"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// appCmd manages a tenant's OAuth clients. A secret is printed once, when
// it is made, and never again.
func (r *runner) appCmd() *cobra.Command {
	return r.groupCmd("app", "Manage a tenant's OAuth apps (clients)",
		r.appCreateCmd(), r.appListCmd(), r.appRotateSecretCmd(), r.appDeleteCmd())
}

// appRun is an app command's store, scoped to the tenant --tenant names.
type appRun struct {
	*store
	tenant *tenants.Tenant
	apps   apps.TenantStore
}

// tenantApps opens the apps store of the tenant slug names.
func (r *runner) tenantApps(ctx context.Context, slug string) (*appRun, error) {
	if slug == "" {
		return nil, apperr.Field("tenant", "is required")
	}
	s, err := r.openStore(ctx)
	if err != nil {
		return nil, err
	}
	t, err := tenants.NewStore(s.db.Gorm).BySlug(ctx, slug)
	if err != nil {
		s.close()
		return nil, apperr.Field("tenant", "no tenant has the slug %q", slug)
	}
	return &appRun{store: s, tenant: t, apps: apps.NewStore(s.db.Gorm).For(t.ID)}, nil
}

// record writes the audit event of a CLI change to an app.
func (a *appRun) record(ctx context.Context, action, target string, detail map[string]any) {
	_ = audit.NewRecorder(a.db.Gorm, a.log).Record(ctx, audit.Event{TenantID: a.tenant.ID, Actor: "cli", Action: action, Target: target, Detail: detail})
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

func (r *runner) printJSON(v any) error {
	enc := json.NewEncoder(r.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
