package app

import (
	"context"
	"slices"

	"gatehouse/app/apps"
	"gatehouse/app/devshop"
	"gatehouse/config"
	"gatehouse/tenants"
)

// seedShop registers Demo Coffee Shop as a first-party spa app of the demo
// tenant, at the shop's origin for this run, and gives the demo tenant an
// optional field for the shop to ask for if it has none. It is idempotent:
// an app already registered for this origin is kept (so are its tokens);
// one registered for another port is replaced.
func seedShop(ctx context.Context, cfg *config.Config, ts *tenants.Service, store *apps.Store, demo *tenants.Tenant) (devshop.Config, error) {
	if !slices.ContainsFunc(demo.Fields, func(f tenants.Field) bool { return f.Capture == tenants.CaptureOptional }) {
		fields := append(slices.Clone(demo.Fields), tenants.Field{Key: "favourite_drink", Label: "Favourite drink", Type: tenants.TypeSelect,
			Capture: tenants.CaptureOptional, HelpText: "So we can suggest something you will like.",
			Options: []tenants.Option{{Value: "espresso", Label: "Espresso"}, {Value: "flat_white", Label: "Flat white"}, {Value: "tea", Label: "Tea"}}})
		var err error
		if demo, err = ts.SaveFields(ctx, demo.ID, fields); err != nil {
			return devshop.Config{}, err
		}
	}
	origin := cfg.PublicURL(devshop.Host + "." + cfg.BaseDomain)
	want := apps.New{Name: devshop.AppName, Type: apps.SPA, FirstParty: true,
		RedirectURIs: []string{origin + "/"}, PostLogoutURIs: []string{origin + "/"}, CORSOrigins: []string{origin}}
	out := devshop.Config{Issuer: cfg.PublicURL(demo.Host(cfg.BaseDomain))}
	ts2 := store.For(demo.ID)
	list, err := ts2.List(ctx)
	if err != nil {
		return out, err
	}
	for _, a := range list {
		if a.Name != devshop.AppName || a.Type != apps.SPA {
			continue
		}
		if a.FirstParty && slices.Equal(a.RedirectURIs, want.RedirectURIs) && slices.Equal(a.PostLogoutURIs, want.PostLogoutURIs) && slices.Equal(a.CORSOrigins, want.CORSOrigins) {
			out.ClientID = a.ClientID
			return out, nil
		}
		if err := ts2.Delete(ctx, a.ClientID); err != nil {
			return out, err
		}
	}
	a, _, err := ts2.Create(ctx, want)
	if err != nil {
		return out, err
	}
	out.ClientID = a.ClientID
	return out, nil
}
