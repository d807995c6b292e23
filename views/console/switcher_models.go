package console

// SwitchList is a list of tenants the viewer may open, as the header's
// switcher and its search show it: the first matches, and a note of how
// many more there are.
type SwitchList struct {
	// Show is false for someone who works in no tenant and is no
	// platform admin: they have nothing to switch to.
	Show       bool
	Query      string
	Items      []TenantRef
	Total      int    // how many match in all
	More       string // "12 more — refine your search"; "" when all are listed
	AllTenants bool   // a platform admin: link to the full tenants page
}

// SwitchPageView is GET /switch without JavaScript: the switcher's search
// as a page.
type SwitchPageView struct {
	Chrome Chrome
	List   SwitchList
}
