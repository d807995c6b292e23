package cli

import (
	"context"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"gatehouse/app/mail"
	"gatehouse/apperr"
	"gatehouse/config"
	"gatehouse/tenants"
	"gatehouse/views/email"
)

func (r *runner) mailCmd() *cobra.Command {
	return r.groupCmd("mail", "Check mail delivery", r.mailTestCmd())
}

// mailBrand is how the test message looks: as the tenant slug names, or
// as Gatehouse itself.
func (r *runner) mailBrand(ctx context.Context, slug string) (email.Brand, uuid.UUID, error) {
	brand := email.Brand{Name: "Gatehouse", PrimaryColor: tenants.DefaultTheme().PrimaryColor, ButtonTextColor: "#ffffff"}
	if slug == "" {
		return brand, uuid.Nil, nil
	}
	database, err := r.w.OpenDB(ctx, r.cfg, r.logger(), false)
	if err != nil {
		return brand, uuid.Nil, err
	}
	defer database.Close()
	t, err := tenants.NewStore(database.Gorm).BySlug(ctx, slug)
	if err != nil {
		return brand, uuid.Nil, apperr.Field("tenant", "no tenant has the slug %q", slug)
	}
	return mail.BrandOf(t, r.cfg.PublicURL(t.Host(r.cfg.BaseDomain))), t.ID, nil
}

// mailNeeds are the settings `mail test` cannot run without.
func mailNeeds(slug string) []config.Need {
	if slug != "" {
		return []config.Need{config.NeedRedis, config.NeedDatabase}
	}
	return []config.Need{config.NeedRedis}
}
