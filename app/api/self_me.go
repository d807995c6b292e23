package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"gatehouse/app/accounts"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// errBadCustomer answers a customer token whose customer is gone or
// disabled, as any other dead token.
var errBadCustomer = &apperr.Error{Code: apperr.Unauthorized, Message: "The access token is invalid or has expired."}

// meJSON is a customer as they see themselves: the management API's view
// of them, but with last_login_at always present (null before the first
// sign-in), as the OpenAPI document describes /me.
type meJSON struct {
	CustomerJSON
	LastLoginAt *time.Time `json:"last_login_at"`
}

func meOf(c *accounts.Customer) meJSON {
	return meJSON{CustomerJSON: customerJSON(c), LastLoginAt: c.LastLoginAt}
}

// getMe is GET /me.
func (h *self) getMe(c *gin.Context) {
	c.JSON(http.StatusOK, meOf(customerOf(c)))
}

// mePatch is a JSON Merge Patch (RFC 7396) of meJSON: only the profile
// can change, one registration field per member; null removes a value.
type mePatch struct {
	Profile map[string]any `json:"profile"`
}

// patchMe is PATCH /me.
func (h *self) patchMe(c *gin.Context) {
	var in mePatch
	if err := Bind(c, &in); err != nil {
		Problem(c, err)
		return
	}
	values, err := profileValues(in.Profile)
	if err != nil {
		Problem(c, err)
		return
	}
	t, cust := tenants.FromGin(c), customerOf(c)
	if err := h.accounts.PatchProfile(c.Request.Context(), t, cust, values, requestOf(c)); err != nil {
		Problem(c, err)
		return
	}
	c.JSON(http.StatusOK, meOf(cust))
}

// fieldJSON is a registration field as a custom UI draws it.
type fieldJSON struct {
	Key        string             `json:"key"`
	Label      string             `json:"label"`
	Type       string             `json:"type"`
	Capture    string             `json:"capture"`
	HelpText   string             `json:"help_text,omitempty"`
	Validation tenants.Validation `json:"validation"`
	Options    []tenants.Option   `json:"options,omitempty"`
}

func fieldsOf(fs []tenants.Field) []fieldJSON {
	out := make([]fieldJSON, 0, len(fs))
	for _, f := range fs {
		out = append(out, fieldJSON{
			Key: f.Key, Label: f.Label, Type: string(f.Type), Capture: string(f.Capture), HelpText: f.HelpText,
			Validation: f.Validation, Options: f.Options,
		})
	}
	return out
}

// missingFields is GET /me/missing-fields: what progressive profiling
// still needs.
func (h *self) missingFields(c *gin.Context) {
	m := h.accounts.MissingFields(tenants.FromGin(c), customerOf(c))
	c.JSON(http.StatusOK, gin.H{"required": fieldsOf(m.Required), "optional": fieldsOf(m.Optional), "ask_optional": m.AskOptional})
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword is POST /me/password: the current password (unless the
// account has none yet) and the new one, throttled like /login. Every
// hosted session of the customer ends.
func (h *self) changePassword(c *gin.Context) {
	var in passwordChange
	if err := Bind(c, &in); err != nil {
		Problem(c, err)
		return
	}
	t, cust := tenants.FromGin(c), customerOf(c)
	if err := h.accounts.ChangePassword(c.Request.Context(), t, cust, in.CurrentPassword, in.NewPassword, "", requestOf(c)); err != nil {
		Problem(c, err)
		return
	}
	noContent(c)
}

type selfIdentityJSON struct {
	Provider string `json:"provider"`
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"`
}

// listIdentities is GET /me/identities: the providers the customer signs
// in with, and whether they have a password.
func (h *self) listIdentities(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	ids, err := h.accounts.Methods(c.Request.Context(), t, cust)
	if err != nil {
		Problem(c, err)
		return
	}
	out := make([]selfIdentityJSON, 0, len(ids))
	for _, id := range ids {
		out = append(out, selfIdentityJSON{Provider: id.Provider, Name: accounts.MethodName(t, id.Provider), Email: id.Email})
	}
	c.JSON(http.StatusOK, gin.H{"has_password": cust.HasPassword(), "identities": out})
}

// unlinkIdentity is DELETE /me/identities/{provider}. The last way to
// sign in cannot be removed (409).
func (h *self) unlinkIdentity(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	if err := h.accounts.UnlinkIdentity(c.Request.Context(), t, cust, c.Param("provider"), "", requestOf(c)); err != nil {
		Problem(c, err)
		return
	}
	noContent(c)
}

type sessionJSON struct {
	ID         string    `json:"id"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// listSessions is GET /me/sessions: the customer's signed-in browsers on
// the brand's hosted pages.
func (h *self) listSessions(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	list, err := h.accounts.Sessions(c.Request.Context(), t, cust)
	if err != nil {
		Problem(c, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, sessionJSON{ID: s.ID, IP: s.IP, UserAgent: s.UserAgent, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt})
	}
	c.JSON(http.StatusOK, gin.H{"sessions": out})
}

// revokeSession is DELETE /me/sessions/{id}.
func (h *self) revokeSession(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	if err := h.accounts.RevokeSession(c.Request.Context(), t, cust, c.Param("id"), "customer:"+cust.ID.String(), requestOf(c)); err != nil {
		Problem(c, err)
		return
	}
	noContent(c)
}

type appJSON struct {
	ClientID   string     `json:"client_id"`
	Name       string     `json:"name"`
	FirstParty bool       `json:"first_party"`
	Scopes     []string   `json:"scopes"`
	Since      time.Time  `json:"since"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// listApps is GET /me/apps: the apps holding the customer's tokens or
// consent.
func (h *self) listApps(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	list, err := h.grants.CustomerApps(c.Request.Context(), t, cust.ID)
	if err != nil {
		Problem(c, err)
		return
	}
	out := make([]appJSON, 0, len(list))
	for _, a := range list {
		j := appJSON{ClientID: a.ClientID, Name: a.Name, FirstParty: a.FirstParty, Scopes: a.Scopes, Since: a.Since}
		if j.Scopes == nil {
			j.Scopes = []string{}
		}
		if !a.LastUsed.IsZero() {
			lu := a.LastUsed
			j.LastUsedAt = &lu
		}
		out = append(out, j)
	}
	c.JSON(http.StatusOK, gin.H{"apps": out})
}

// revokeApp is DELETE /me/apps/{client_id}: every token of that app for
// the customer is revoked and its consent forgotten.
func (h *self) revokeApp(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	if err := h.grants.RevokeCustomerApp(c.Request.Context(), t, cust.ID, c.Param("client_id")); err != nil {
		Problem(c, err)
		return
	}
	noContent(c)
}
