package mail

import (
	"gatehouse/tenants"
	"gatehouse/views/email"
)

// BrandOf maps a tenant to what mail templates show: its customer-facing
// name, colours and site link. siteURL is built from the tenant's configured
// host, never from a request.
func BrandOf(t *tenants.Tenant, siteURL string) email.Brand {
	name := t.Theme.DisplayName
	if name == "" {
		name = t.Name
	}
	return email.Brand{
		Name:            name,
		PrimaryColor:    t.Theme.PrimaryColor,
		ButtonTextColor: t.Theme.ButtonTextColor,
		SiteURL:         siteURL,
	}
}
