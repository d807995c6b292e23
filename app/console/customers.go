package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/app/accounts"
	"gatehouse/app/audit"
	"gatehouse/app/sessions"
	"gatehouse/apperr"
	"gatehouse/tenants"
	"gatehouse/views/components"
	views "gatehouse/views/console"
)

// Customers is what the customers pages need from customer accounts.
type Customers interface {
	List(ctx context.Context, t *tenants.Tenant, q accounts.ListQuery) (accounts.ListPage, error)
	Customer(ctx context.Context, t *tenants.Tenant, id uuid.UUID) (*accounts.Customer, error)
	Methods(ctx context.Context, t *tenants.Tenant, c *accounts.Customer) ([]accounts.Identity, error)
	Sessions(ctx context.Context, t *tenants.Tenant, c *accounts.Customer) ([]sessions.Session, error)
	RevokeSession(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, sessionID, actor string, r accounts.Request) error
	SetStatus(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, status, actor string, r accounts.Request) error
	EditProfile(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, values map[string]string, actor string, r accounts.Request) error
	SendReset(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, actor string, r accounts.Request) error
	SendVerification(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, actor string, r accounts.Request) error
	UnlinkIdentity(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, provider, actor string, r accounts.Request) error
	Delete(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, actor string, r accounts.Request) error
	ExportData(ctx context.Context, t *tenants.Tenant, c *accounts.Customer, actor string, r accounts.Request) (accounts.Export, error)
}

// customerPageSizes are the page sizes the list offers; the first is the
// default.
var customerPageSizes = []int{25, 50, 100}

// customerSortLabels name the list's orders in its menu.
var customerSortLabels = map[accounts.Sort]string{
	accounts.SortAlpha:       "A to Z",
	accounts.SortNewest:      "Newest sign-ups first",
	accounts.SortOldest:      "Oldest sign-ups first",
	accounts.SortRecentLogin: "Signed in most recently",
	accounts.SortStaleLogin:  "Signed in longest ago",
}

// customersQuery is what GET /t/:slug/customers takes. A sort, size or
// cursor it cannot read is dropped with a message naming it, and the
// list starts again at the first page.
type customersQuery struct {
	Query, After, Before string
	Sort                 accounts.Sort
	Size                 int
	Problem              string
}

func bindCustomers(c *gin.Context) customersQuery {
	f := customersQuery{Query: strings.TrimSpace(c.Query("q")), After: c.Query("after"), Before: c.Query("before"), Size: customerPageSizes[0]}
	var problems []string
	if s, err := accounts.ParseSort(c.Query("sort")); err != nil {
		problems = append(problems, "Sort: “"+c.Query("sort")+"” is not an order of this list.")
	} else {
		f.Sort = s
	}
	if raw := c.Query("size"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || !slices.Contains(customerPageSizes, n) {
			problems = append(problems, "Page size: choose 25, 50 or 100.")
		} else {
			f.Size = n
		}
	}
	if len(problems) > 0 {
		f.After, f.Before = "", ""
		f.Problem = strings.Join(problems, " ") + " Showing the first page."
	}
	return f
}

// CustomersList is GET /t/:slug/customers?q=…&sort=…&size=…&after=…
// (or before=…): a page of the tenant's customers, with the total and
// links to the pages either side. htmx gets the results alone.
func (h *Handlers) CustomersList(c *gin.Context) {
	t := tenantOf(c)
	f := bindCustomers(c)
	lq := accounts.ListQuery{Query: f.Query, Sort: f.Sort, After: f.After, Before: f.Before, Limit: f.Size}
	page, err := h.d.Customers.List(c.Request.Context(), t, lq)
	if e, ok := apperr.As(err); ok && e.Field == "cursor" {
		// A page link from before a change of order, or edited by hand.
		f.Problem = "That page link is out of date. Showing the first page."
		lq.After, lq.Before = "", ""
		page, err = h.d.Customers.List(c.Request.Context(), t, lq)
	}
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v := views.CustomersPage{Slug: t.Slug, Query: f.Query, Sort: string(f.Sort), Size: strconv.Itoa(f.Size), Problem: f.Problem,
		Total: customersTotal(page, f.Query)}
	for _, s := range accounts.Sorts {
		v.Sorts = append(v.Sorts, views.Option{Value: string(s), Label: customerSortLabels[s], Selected: s == f.Sort})
	}
	for _, n := range customerPageSizes {
		v.Sizes = append(v.Sizes, views.Option{Value: strconv.Itoa(n), Label: strconv.Itoa(n) + " a page", Selected: n == f.Size})
	}
	for _, cu := range page.Customers {
		name := strings.TrimSpace(fmt.Sprint(orEmpty(cu.Profile["first_name"]), " ", orEmpty(cu.Profile["last_name"])))
		row := views.CustomerRow{ID: cu.ID.String(), Email: cu.Email, Name: name, Status: cu.Status,
			Verified: cu.EmailVerified, Created: cu.CreatedAt.Format("2006-01-02"), LastLogin: "never"}
		if cu.LastLoginAt != nil {
			row.LastLogin = cu.LastLoginAt.Format("2006-01-02")
		}
		v.Rows = append(v.Rows, row)
	}
	link := func(sort accounts.Sort, cursor, cursorValue string) string {
		q := url.Values{}
		if f.Query != "" {
			q.Set("q", f.Query)
		}
		if sort != accounts.SortAlpha {
			q.Set("sort", string(sort))
		}
		if f.Size != customerPageSizes[0] {
			q.Set("size", strconv.Itoa(f.Size))
		}
		if cursor != "" {
			q.Set(cursor, cursorValue)
		}
		if len(q) == 0 {
			return "/t/" + t.Slug + "/customers"
		}
		return "/t/" + t.Slug + "/customers?" + q.Encode()
	}
	if page.Next != "" {
		v.NextURL = link(f.Sort, "after", page.Next)
	}
	if page.Prev != "" {
		v.PrevURL = link(f.Sort, "before", page.Prev)
		v.FirstURL = link(f.Sort, "", "")
	}
	// The sortable columns flip between their two orders.
	column := func(first, second accounts.Sort) views.SortLink {
		switch f.Sort {
		case first:
			return views.SortLink{Href: link(second, "", ""), State: "descending"}
		case second:
			return views.SortLink{Href: link(first, "", ""), State: "ascending"}
		}
		return views.SortLink{Href: link(first, "", ""), State: "none"}
	}
	v.CreatedSort = column(accounts.SortNewest, accounts.SortOldest)
	v.LoginSort = column(accounts.SortRecentLogin, accounts.SortStaleLogin)
	if isHTMX(c) {
		h.d.Render.HTML(c, http.StatusOK, views.CustomerResults(v))
		return
	}
	v.Chrome = h.chrome(c, "Customers · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Customers"})...)
	h.d.Render.HTML(c, http.StatusOK, views.Customers(v))
}

// customersTotal says how many customers the list holds, or match the
// search: exactly up to accounts.CountCap, "10,000+" past it.
func customersTotal(p accounts.ListPage, query string) string {
	n := thousands(p.Total)
	if p.Capped {
		n += "+"
	}
	noun := " customers"
	if p.Total == 1 && !p.Capped {
		noun = " customer"
	}
	if query != "" && p.Total == 1 && !p.Capped {
		return n + noun + " matches “" + query + "”"
	} else if query != "" {
		return n + noun + " match “" + query + "”"
	}
	return n + noun
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func orEmpty(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// customer loads the :id customer of the guard's tenant; another tenant's
// customer is the same 404 as no customer.
func (h *Handlers) customer(c *gin.Context) (*tenants.Tenant, *accounts.Customer, bool) {
	t := tenantOf(c)
	id, err := uuid.Parse(c.Param("cid"))
	if err != nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
		return nil, nil, false
	}
	cu, err := h.d.Customers.Customer(c.Request.Context(), t, id)
	if err != nil {
		h.d.Render.Error(c, notFound(err))
		return nil, nil, false
	}
	return t, cu, true
}

func (h *Handlers) allowed(c *gin.Context, t *tenants.Tenant, a access.Action) bool {
	ok, _ := h.d.Staff.RBAC().Allowed(c.Request.Context(), viewerOf(c).staff.ID, access.TenantDomain(t.ID), access.Perm{Object: access.Users, Action: a})
	return ok
}

func (h *Handlers) renderCustomer(c *gin.Context, status int, t *tenants.Tenant, cu *accounts.Customer, submitted map[string]string, errs views.Errors, deleteErr string) {
	ctx := c.Request.Context()
	ids, err := h.d.Customers.Methods(ctx, t, cu)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	sess, err := h.d.Customers.Sessions(ctx, t, cu)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	events, _, err := h.d.Audit.List(ctx, t.ID, audit.Filter{Target: cu.Email, Limit: 20})
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v := views.CustomerPage{
		Slug: t.Slug, ID: cu.ID.String(), Email: cu.Email, Status: cu.Status, Verified: cu.EmailVerified,
		Created: cu.CreatedAt.Format("2006-01-02"), LastLogin: "never", Errors: errs, DeleteError: deleteErr,
		CanWrite: h.allowed(c, t, access.Write), CanDelete: h.allowed(c, t, access.Delete),
	}
	if cu.LastLoginAt != nil {
		v.LastLogin = cu.LastLoginAt.Format("2006-01-02 15:04")
	}
	for _, f := range t.Fields {
		in := views.ProfileInput{Key: f.Key, Label: f.Label, Type: string(f.Type), Required: f.Capture == tenants.CaptureRequired}
		if submitted != nil {
			in.Value = submitted[f.Key]
		} else if val, ok := cu.Profile[f.Key]; ok && val != nil {
			in.Value = profileText(val)
		}
		for _, o := range f.Options {
			in.Options = append(in.Options, views.Option{Value: o.Value, Label: o.Label})
		}
		if f.Type == tenants.TypeCountry {
			for _, ct := range tenants.Countries() {
				in.Options = append(in.Options, views.Option{Value: ct.Code, Label: ct.Name})
			}
		}
		v.Profile = append(v.Profile, in)
	}
	for _, i := range ids {
		v.Identities = append(v.Identities, views.IdentityRow{Provider: i.Provider, Name: accounts.ProviderName(i.Provider), Email: i.Email})
	}
	for _, s := range sess {
		v.Sessions = append(v.Sessions, views.SessionRow{ID: s.ID, Host: s.Host, IP: s.IP, Agent: s.UserAgent,
			Created: s.CreatedAt.Format("2006-01-02 15:04"), LastSeen: s.LastSeenAt.Format("2006-01-02 15:04")})
	}
	v.Events = h.customerActivity(ctx, t, cu, events)
	v.Chrome = h.chrome(c, cu.Email+" · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Customers", Href: "/t/" + t.Slug + "/customers"}, views.Crumb{Label: cu.Email})...)
	h.d.Render.HTML(c, status, views.Customer(v))
}

func profileText(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "true"
		}
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// CustomerShow is GET /t/:slug/customers/:id.
func (h *Handlers) CustomerShow(c *gin.Context) {
	if t, cu, ok := h.customer(c); ok {
		h.renderCustomer(c, http.StatusOK, t, cu, nil, nil, "")
	}
}

func (h *Handlers) customerRequest(c *gin.Context) accounts.Request {
	return accounts.Request{Host: consoleHost(c), IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}

// CustomerUpdate is POST /t/:slug/customers/:id: the profile.
func (h *Handlers) CustomerUpdate(c *gin.Context) {
	t, cu, ok := h.customer(c)
	if !ok {
		return
	}
	values := map[string]string{}
	for _, f := range t.Fields {
		values[f.Key] = c.PostForm(f.Key)
	}
	err := h.d.Customers.EditProfile(c.Request.Context(), t, cu, values, actor(c).Name(), h.customerRequest(c))
	if fe, isField := err.(tenants.FieldErrors); isField {
		h.renderCustomer(c, http.StatusUnprocessableEntity, t, cu, values, views.Errors(fe), "")
		return
	}
	h.customerDone(c, t, cu, err, "Profile saved.")
}

// CustomerStatus is POST …/status: disable (ending every session) or enable.
func (h *Handlers) CustomerStatus(c *gin.Context) {
	if t, cu, ok := h.customer(c); ok {
		status := c.PostForm("status")
		err := h.d.Customers.SetStatus(c.Request.Context(), t, cu, status, actor(c).Name(), h.customerRequest(c))
		msg := "Enabled."
		if status == accounts.StatusDisabled {
			msg = "Disabled: the customer was signed out everywhere."
		}
		h.customerDone(c, t, cu, err, msg)
	}
}

// CustomerReset is POST …/reset.
func (h *Handlers) CustomerReset(c *gin.Context) {
	if t, cu, ok := h.customer(c); ok {
		h.customerDone(c, t, cu, h.d.Customers.SendReset(c.Request.Context(), t, cu, actor(c).Name(), h.customerRequest(c)), "Password reset mail queued.")
	}
}

// CustomerVerify is POST …/verify.
func (h *Handlers) CustomerVerify(c *gin.Context) {
	if t, cu, ok := h.customer(c); ok {
		h.customerDone(c, t, cu, h.d.Customers.SendVerification(c.Request.Context(), t, cu, actor(c).Name(), h.customerRequest(c)), "Verification mail queued.")
	}
}

// CustomerRevokeSession is POST …/sessions/:sid/revoke.
func (h *Handlers) CustomerRevokeSession(c *gin.Context) {
	if t, cu, ok := h.customer(c); ok {
		h.customerDone(c, t, cu, h.d.Customers.RevokeSession(c.Request.Context(), t, cu, c.Param("sid"), actor(c).Name(), h.customerRequest(c)), "Signed out of that session.")
	}
}

// CustomerUnlink is POST …/identities/:provider/unlink.
func (h *Handlers) CustomerUnlink(c *gin.Context) {
	if t, cu, ok := h.customer(c); ok {
		h.customerDone(c, t, cu, h.d.Customers.UnlinkIdentity(c.Request.Context(), t, cu, c.Param("provider"), actor(c).Name(), h.customerRequest(c)), "Unlinked.")
	}
}

// CustomerExport is GET …/export: everything held about the customer.
func (h *Handlers) CustomerExport(c *gin.Context) {
	t, cu, ok := h.customer(c)
	if !ok {
		return
	}
	data, err := h.d.Customers.ExportData(c.Request.Context(), t, cu, actor(c).Name(), h.customerRequest(c))
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	b, _ := json.MarshalIndent(data, "", "  ")
	c.Header("Content-Disposition", `attachment; filename="customer-`+cu.ID.String()+`.json"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json", b)
}

// CustomerDelete is POST …/delete, confirmed by typing the email address.
func (h *Handlers) CustomerDelete(c *gin.Context) {
	t, cu, ok := h.customer(c)
	if !ok {
		return
	}
	if !strings.EqualFold(strings.TrimSpace(c.PostForm("confirm")), cu.Email) {
		h.renderCustomer(c, http.StatusUnprocessableEntity, t, cu, nil, nil, "Type the customer's email address exactly to confirm.")
		return
	}
	if err := h.d.Customers.Delete(c.Request.Context(), t, cu, actor(c).Name(), h.customerRequest(c)); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.flash(c, components.AlertSuccess, "Customer deleted.")
	seeOther(c, "/t/"+t.Slug+"/customers")
}

// customerDone ends an action: back to the customer with a message, or a
// form-level error for what the customer's state refuses.
func (h *Handlers) customerDone(c *gin.Context, t *tenants.Tenant, cu *accounts.Customer, err error, ok string) {
	switch {
	case err == nil:
		h.flash(c, components.AlertSuccess, ok)
	case apperr.Is(err, apperr.Conflict), apperr.Is(err, apperr.Invalid), apperr.Is(err, apperr.NotFound), apperr.Is(err, apperr.TooMany):
		h.flash(c, components.AlertError, apperrMessage(err))
	default:
		h.d.Render.Error(c, err)
		return
	}
	seeOther(c, "/t/"+t.Slug+"/customers/"+cu.ID.String())
}

func apperrMessage(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Message
	}
	return "That did not work."
}
