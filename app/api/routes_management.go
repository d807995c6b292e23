package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/audit"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// mountManagement registers customer management for brands' back-ends:
// machine tokens with customers:read or customers:write.
func mountManagement(g *gin.RouterGroup, d Deps) {
	m := &management{d: d}
	f := &framework{d: d}
	read := RequireMachine(ScopeCustomersRead)
	write := RequireMachine(ScopeCustomersWrite)
	g.POST("/customers", write, f.idempotent, m.create)
	g.GET("/customers", read, m.list)
	g.GET("/customers/by-email/:email", read, m.byEmail)
	g.GET("/customers/:id", read, m.get)
	g.PATCH("/customers/:id", write, m.patch)
	g.DELETE("/customers/:id", write, m.delete)
	g.POST("/customers/:id/disable", write, f.idempotent, m.setStatus(accounts.StatusDisabled))
	g.POST("/customers/:id/enable", write, f.idempotent, m.setStatus(accounts.StatusActive))
	g.GET("/customers/:id/export", read, m.export)
	g.GET("/customers/:id/identities", read, m.identities)
	g.DELETE("/customers/:id/identities/:provider", write, m.unlink)
	g.DELETE("/customers/:id/sessions", write, m.revokeSessions)
	g.DELETE("/customers/:id/tokens", write, m.revokeTokens)
	g.POST("/customers/:id/password-reset", write, f.idempotent, m.sendReset)
	g.POST("/customers/:id/verification", write, f.idempotent, m.sendVerification)
}

type management struct {
	d Deps
}

// actor names the calling app in the audit log.
func actor(c *gin.Context) string { return "app:" + PrincipalOf(c).ClientID }

func request(c *gin.Context) accounts.Request {
	return accounts.Request{Host: tenants.NormalizeHost(c.Request.Host), IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}

var errNoCustomer = apperr.New(apperr.NotFound, "There is no customer with this id.")

// customer loads the :id customer of this tenant: an id of another
// tenant is the same 404 as one that never existed; a malformed one a 422.
func (m *management) customer(c *gin.Context) (*accounts.Customer, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		Problem(c, apperr.Field("id", "is not a customer id"))
		return nil, false
	}
	cust, err := m.d.Accounts.Customer(c.Request.Context(), tenants.FromGin(c), id)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			err = errNoCustomer
		}
		Problem(c, err)
		return nil, false
	}
	return cust, true
}

func writeCustomer(c *gin.Context, status int, cust *accounts.Customer) {
	c.Header("ETag", ETag(cust))
	c.JSON(status, customerJSON(cust))
}

// reload reads the customer again after a change, for its new version.
func (m *management) reload(c *gin.Context, id uuid.UUID, status int) {
	cust, err := m.d.Accounts.Customer(c.Request.Context(), tenants.FromGin(c), id)
	if err != nil {
		Problem(c, err)
		return
	}
	writeCustomer(c, status, cust)
}

type createRequest struct {
	Email               string         `json:"email"`
	Password            string         `json:"password"`
	EmailVerified       bool           `json:"email_verified"`
	Profile             map[string]any `json:"profile"`
	SendSetPasswordMail bool           `json:"send_set_password_mail"`
}

func (m *management) create(c *gin.Context) {
	var in createRequest
	if err := Bind(c, &in); err != nil {
		Problem(c, err)
		return
	}
	values, err := profileValues(in.Profile)
	if err != nil {
		Problem(c, err)
		return
	}
	if in.SendSetPasswordMail && in.Password != "" {
		Problem(c, apperr.Field("send_set_password_mail", "cannot be true when a password is given"))
		return
	}
	t := tenants.FromGin(c)
	ctx := c.Request.Context()
	cust, err := m.d.Accounts.Create(ctx, t, accounts.NewCustomer{
		Email: in.Email, Password: in.Password, EmailVerified: in.EmailVerified, Values: values,
	}, actor(c), request(c))
	if err != nil {
		Problem(c, err)
		return
	}
	if in.SendSetPasswordMail {
		// The worker sends a customer with neither password nor provider
		// the single-use "choose your password" link.
		if err := m.d.Accounts.SendReset(ctx, t, cust, actor(c), request(c)); err != nil {
			Problem(c, err)
			return
		}
	}
	c.Header("Location", Base+"/customers/"+cust.ID.String())
	writeCustomer(c, http.StatusCreated, cust)
}

// profileValues turns a JSON profile into the text values the
// registration fields parse, naming the member that is not a scalar.
func profileValues(p map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(p))
	for k, v := range p {
		s, ok := profileString(v)
		if !ok {
			return nil, apperr.Field(k, "must be a string, number, boolean or null")
		}
		out[k] = s
	}
	return out, nil
}

func (m *management) list(c *gin.Context) {
	limit, err := parseLimit(c.Query("limit"))
	if err != nil {
		Problem(c, err)
		return
	}
	cursor, err := decodeCursor(c.Query("cursor"))
	if err != nil {
		Problem(c, err)
		return
	}
	q := c.Query("q")
	if len(q) > 254 {
		Problem(c, apperr.Field("q", "must be at most 254 characters"))
		return
	}
	page, err := m.d.Accounts.Search(c.Request.Context(), tenants.FromGin(c), q, cursor, limit)
	if err != nil {
		Problem(c, err)
		return
	}
	out := pageJSON{Customers: make([]CustomerJSON, 0, len(page.Customers)), NextCursor: encodeCursor(page.Next)}
	for _, cust := range page.Customers {
		out.Customers = append(out.Customers, customerJSON(cust))
	}
	c.JSON(http.StatusOK, out)
}

func (m *management) byEmail(c *gin.Context) {
	cust, err := m.d.Accounts.ByEmail(c.Request.Context(), tenants.FromGin(c), c.Param("email"))
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			err = apperr.New(apperr.NotFound, "There is no customer with this email address.")
		}
		Problem(c, err)
		return
	}
	writeCustomer(c, http.StatusOK, cust)
}

func (m *management) get(c *gin.Context) {
	if cust, ok := m.customer(c); ok {
		writeCustomer(c, http.StatusOK, cust)
	}
}

// patch applies an RFC 7396 merge patch. Only profile may change here
// (status and email have their own routes, or none); within it a member
// set to null is removed, and the result is checked against every
// registration field as the hosted profile form checks it.
func (m *management) patch(c *gin.Context) {
	var in map[string]any
	if err := Bind(c, &in); err != nil {
		Problem(c, err)
		return
	}
	var patch map[string]any
	for k, v := range in {
		if k != "profile" {
			Problem(c, apperr.Field(k, "cannot be changed with PATCH; only profile can"))
			return
		}
		p, ok := v.(map[string]any)
		if !ok {
			Problem(c, apperr.Field("profile", "must be an object"))
			return
		}
		patch = p
	}
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	if err := checkIfMatch(c, cust); err != nil {
		Problem(c, err)
		return
	}
	t := tenants.FromGin(c)
	values := map[string]string{}
	for k, v := range cust.Profile {
		if s, ok := profileString(v); ok {
			values[k] = s
		}
	}
	errs := tenants.FieldErrors{}
	for k, v := range patch {
		if !isField(t, k) {
			errs[k] = "is not a registration field of this brand."
			continue
		}
		s, ok := profileString(v)
		if !ok {
			errs[k] = "must be a string, number, boolean or null."
			continue
		}
		values[k] = s
	}
	if len(errs) > 0 {
		Problem(c, errs)
		return
	}
	if err := m.d.Accounts.EditProfile(c.Request.Context(), t, cust, values, actor(c), request(c)); err != nil {
		Problem(c, err)
		return
	}
	m.reload(c, cust.ID, http.StatusOK)
}

func isField(t *tenants.Tenant, key string) bool {
	for _, f := range t.Fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

func (m *management) setStatus(status string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cust, ok := m.customer(c)
		if !ok {
			return
		}
		if err := checkIfMatch(c, cust); err != nil {
			Problem(c, err)
			return
		}
		if cust.Status != status {
			if err := m.d.Accounts.SetStatus(c.Request.Context(), tenants.FromGin(c), cust, status, actor(c), request(c)); err != nil {
				Problem(c, err)
				return
			}
			if status == accounts.StatusDisabled {
				// The customer's apps lose their tokens at once too.
				if err := m.d.Tokens.RevokeCustomer(c.Request.Context(), tenants.FromGin(c), cust.ID); err != nil {
					Problem(c, err)
					return
				}
			}
		}
		m.reload(c, cust.ID, http.StatusOK)
	}
}

// delete is GDPR erasure: the profile, identities, sessions and tokens go;
// the audit log keeps that it happened, under the customer's id.
func (m *management) delete(c *gin.Context) {
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	if err := checkIfMatch(c, cust); err != nil {
		Problem(c, err)
		return
	}
	if err := m.d.Accounts.Delete(c.Request.Context(), tenants.FromGin(c), cust, actor(c), request(c)); err != nil {
		Problem(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type identityJSON struct {
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
	Email    string `json:"email,omitempty"`
}

func identitiesJSON(ids []accounts.Identity) []identityJSON {
	out := make([]identityJSON, 0, len(ids))
	for _, id := range ids {
		out = append(out, identityJSON{Provider: id.Provider, Subject: id.Subject, Email: id.Email})
	}
	return out
}

type exportJSON struct {
	CustomerJSON
	Identities []identityJSON `json:"identities"`
}

func (m *management) export(c *gin.Context) {
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	ex, err := m.d.Accounts.ExportData(c.Request.Context(), tenants.FromGin(c), cust, actor(c), request(c))
	if err != nil {
		Problem(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="customer-`+cust.ID.String()+`.json"`)
	c.JSON(http.StatusOK, exportJSON{CustomerJSON: customerJSON(cust), Identities: identitiesJSON(ex.Identities)})
}

func (m *management) identities(c *gin.Context) {
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	ids, err := m.d.Accounts.Methods(c.Request.Context(), tenants.FromGin(c), cust)
	if err != nil {
		Problem(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"identities": identitiesJSON(ids)})
}

func (m *management) unlink(c *gin.Context) {
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	provider := strings.TrimSpace(c.Param("provider"))
	ids, err := m.d.Accounts.Methods(c.Request.Context(), tenants.FromGin(c), cust)
	if err != nil {
		Problem(c, err)
		return
	}
	if !slices.ContainsFunc(ids, func(id accounts.Identity) bool { return id.Provider == provider }) {
		Problem(c, apperr.New(apperr.NotFound, "This customer has no sign-in linked through %s.", provider))
		return
	}
	if err := m.d.Accounts.UnlinkIdentity(c.Request.Context(), tenants.FromGin(c), cust, provider, actor(c), request(c)); err != nil {
		Problem(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (m *management) revokeSessions(c *gin.Context) {
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	if err := m.d.Accounts.RevokeSessions(c.Request.Context(), tenants.FromGin(c), cust, actor(c), request(c)); err != nil {
		Problem(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (m *management) revokeTokens(c *gin.Context) {
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	if err := m.d.Tokens.RevokeCustomer(c.Request.Context(), tenants.FromGin(c), cust.ID); err != nil {
		Problem(c, err)
		return
	}
	if m.d.Audit != nil {
		_ = m.d.Audit.Record(c.Request.Context(), auditEvent(c, "customer.tokens.revoked", cust.Email))
	}
	c.Status(http.StatusNoContent)
}

func (m *management) sendReset(c *gin.Context) {
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	if err := m.d.Accounts.SendReset(c.Request.Context(), tenants.FromGin(c), cust, actor(c), request(c)); err != nil {
		Problem(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": true})
}

func (m *management) sendVerification(c *gin.Context) {
	cust, ok := m.customer(c)
	if !ok {
		return
	}
	if err := m.d.Accounts.SendVerification(c.Request.Context(), tenants.FromGin(c), cust, actor(c), request(c)); err != nil {
		Problem(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": true})
}

func auditEvent(c *gin.Context, action, target string) audit.Event {
	return audit.Event{TenantID: tenants.FromGin(c).ID, Actor: actor(c), Action: action, Target: target, IP: c.ClientIP()}
}
