package console

// TenantsPage is the platform admin's list of tenants.
type TenantsPage struct {
	Chrome     Chrome
	BaseDomain string
	Query      string
	Rows       []TenantRow
	Total      int
	Form       TenantForm
}

// TenantRow is one tenant in the list.
type TenantRow struct {
	Slug    string
	Name    string
	Status  string
	Domains []string
	Created string
}

// TenantForm creates a tenant.
type TenantForm struct {
	Slug   string
	Name   string
	Errors Errors
}

// TenantPage is one tenant as a platform admin manages it.
type TenantPage struct {
	Chrome    Chrome
	Slug      string
	Name      string
	Status    string
	LoginURL  string
	Created   string
	Domains   []DomainRow
	NewDomain string
	Errors    Errors // "domain", "status"
}

// DomainRow is a custom domain with what it takes to verify it.
type DomainRow struct {
	Hostname    string
	Verified    bool
	RecordName  string // _gatehouse.<hostname>
	RecordValue string // gatehouse-verification=<token>
	Error       string // why the last DNS check failed
}
