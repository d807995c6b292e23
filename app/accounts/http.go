package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"gatehouse/app/hosted"
	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// Handlers serve the customer pages on a brand's host. Each handler binds
// its form, makes one service call and renders a view model.
type Handlers struct {
	svc     *Service
	render  *web.Renderer
	pages   *hosted.Pages
	buttons Buttons
	cookie  string
	device  string
	signup  string // binds a sign-up waiting for its verification link to the browser
	secure  bool
}

// Buttons lists a tenant's social and brand sign-in buttons.
type Buttons interface {
	Buttons(ctx context.Context, t *tenants.Tenant, returnTo string) []views.Provider
}

// NewHandlers returns the handlers. secure (https deployments) makes the
// session cookie Secure and __Host- prefixed, which pins it to the exact host.
func NewHandlers(svc *Service, render *web.Renderer, pages *hosted.Pages, buttons Buttons, secure bool) *Handlers {
	name, device, signup := "gh_session", "gh_device", "gh_signup"
	if secure {
		name, device, signup = "__Host-gh_session", "__Host-gh_device", "__Host-gh_signup"
	}
	return &Handlers{svc: svc, render: render, pages: pages, buttons: buttons, cookie: name, device: device, signup: signup, secure: secure}
}

const (
	customerKey = "gatehouse.customer"
	tokenKey    = "gatehouse.session_token"
)

// LoadCustomer reads the session cookie and, when it names a live session
// of this tenant on this host, puts the customer in the context. A cookie
// from another tenant or host is simply not a session here.
func (h *Handlers) LoadCustomer(c *gin.Context) {
	token, err := c.Cookie(h.cookie)
	if err != nil || token == "" {
		c.Next()
		return
	}
	t := tenants.FromGin(c)
	cust, err := h.svc.Current(c.Request.Context(), t, token, h.request(c).Host)
	if err != nil {
		if !apperr.Is(err, apperr.Unauthorized) {
			h.render.Error(c, err)
			return
		}
		h.clearSession(c)
		c.Next()
		return
	}
	c.Set(customerKey, cust)
	c.Set(tokenKey, token)
	c.Next()
}

// RequireCustomer sends a visitor who is not signed in to /login, coming
// back here afterwards.
func (h *Handlers) RequireCustomer(c *gin.Context) {
	if customerOf(c) == nil {
		c.Redirect(http.StatusSeeOther, "/login?return_to="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	c.Next()
}

// CustomerOf returns the signed-in customer of this request, or nil.
func CustomerOf(c *gin.Context) *Customer { return customerOf(c) }

// SignIn starts a session for cust and redirects onwards; other ways of
// signing in (social login) end here too. amr is how the customer proved
// who they are (AMRPassword, AMRFederated).
func (h *Handlers) SignIn(c *gin.Context, t *tenants.Tenant, cust *Customer, returnTo string, amr ...string) {
	h.signIn(c, t, cust, returnTo, amr...)
}

// Request describes the request for the service's audit trail and
// throttles.
func (h *Handlers) Request(c *gin.Context) Request { return h.request(c) }

// SessionTokenOf returns the session token of this request's signed-in
// customer, or "". The OpenID Provider reads the session's sign-in time
// through it and ends the session on RP-initiated logout.
func SessionTokenOf(c *gin.Context) string { return sessionToken(c) }

func customerOf(c *gin.Context) *Customer {
	v, _ := c.Get(customerKey)
	cust, _ := v.(*Customer)
	return cust
}

func sessionToken(c *gin.Context) string { return c.GetString(tokenKey) }

func (h *Handlers) request(c *gin.Context) Request {
	device, _ := c.Cookie(h.device)
	return Request{Host: tenants.NormalizeHost(c.Request.Host), IP: c.ClientIP(), UserAgent: c.Request.UserAgent(), Device: device}
}

// rememberDevice gives the browser a device cookie for cust, so the
// throttles strangers trip do not hold it back next time. It outlives
// sessions and logouts on purpose.
func (h *Handlers) rememberDevice(c *gin.Context, t *tenants.Tenant, cust *Customer) {
	token := h.svc.DeviceToken(t, cust)
	if token == "" {
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: h.device, Value: token, Path: "/", MaxAge: int(DeviceLifetime / time.Second),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handlers) setSession(c *gin.Context, token string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: h.cookie, Value: token, Path: "/", HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handlers) clearSession(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: h.cookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

// signIn starts a session (a new id every time) and sends the customer to
// what comes next: the profile prompt, or where they were going.
func (h *Handlers) signIn(c *gin.Context, t *tenants.Tenant, cust *Customer, returnTo string, amr ...string) {
	if old := sessionToken(c); old != "" {
		_ = h.svc.sessions.Revoke(c.Request.Context(), old)
	}
	token, err := h.svc.StartSession(c.Request.Context(), t, cust, h.request(c), amr)
	if err != nil {
		h.render.Error(c, err)
		return
	}
	h.setSession(c, token)
	h.rememberDevice(c, t, cust)
	c.Redirect(http.StatusSeeOther, h.next(t, cust, returnTo))
}

// next is where a signed-in customer goes: /profile/complete while there is
// something to ask, else returnTo, else /account.
func (h *Handlers) next(t *tenants.Tenant, cust *Customer, returnTo string) string {
	returnTo = web.SafeReturnTo(returnTo)
	if !h.svc.PromptFor(t, cust).Empty() {
		u := "/profile/complete"
		if returnTo != "" {
			u += "?return_to=" + url.QueryEscape(returnTo)
		}
		return u
	}
	if returnTo != "" {
		return returnTo
	}
	return "/account"
}

// formFields turns schema fields into form inputs, showing submitted values
// when the form is shown again after an error, else the stored profile.
func formFields(fields []tenants.Field, profile map[string]any, submitted map[string]string, errs tenants.FieldErrors) []views.FormField {
	out := make([]views.FormField, 0, len(fields))
	for _, f := range fields {
		ff := views.FormField{
			Key: f.Key, Label: f.Label, Type: string(f.Type), Help: f.HelpText,
			Required: f.Capture == tenants.CaptureRequired, Error: errs[f.Key],
			MinLength: f.Validation.MinLength, MaxLength: f.Validation.MaxLength,
			Min: f.Validation.MinDate, Max: f.Validation.MaxDate,
		}
		if f.Type == tenants.TypeNumber {
			ff.Min, ff.Max = number(f.Validation.Min), number(f.Validation.Max)
		}
		if submitted != nil {
			ff.Value = submitted[f.Key]
		} else if v, ok := profile[f.Key]; ok && v != nil {
			ff.Value = display(v)
		}
		switch f.Type {
		case tenants.TypeSelect:
			for _, o := range f.Options {
				ff.Options = append(ff.Options, views.Option{Value: o.Value, Label: o.Label})
			}
		case tenants.TypeCountry:
			for _, ctry := range tenants.Countries() {
				ff.Options = append(ff.Options, views.Option{Value: ctry.Code, Label: ctry.Name})
			}
		}
		out = append(out, ff)
	}
	return out
}

func number(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

func display(v any) string {
	switch x := v.(type) {
	case string:
		return x
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

// formValues reads the submitted values of fields.
func formValues(c *gin.Context, fields []tenants.Field) map[string]string {
	values := make(map[string]string, len(fields))
	for _, f := range fields {
		if v, ok := c.GetPostForm(f.Key); ok {
			values[f.Key] = v
		}
	}
	return values
}

// fieldErrors splits a service error into per-field messages and a
// form-level one; an internal error is handed to the error mapper.
func fieldErrors(err error) (tenants.FieldErrors, string, bool) {
	var fe tenants.FieldErrors
	if errors.As(err, &fe) {
		return fe, "", true
	}
	if e, ok := apperr.As(err); ok && e.Code != apperr.Internal {
		if e.Field != "" {
			return tenants.FieldErrors{e.Field: e.Message}, "", true
		}
		return nil, e.Message, true
	}
	return nil, "", false
}

// isHTMX reports whether the request came from htmx and wants a fragment.
func isHTMX(c *gin.Context) bool { return c.GetHeader("HX-Request") == "true" }

// noStore keeps pages with personal data or tokens out of caches.
func noStore(c *gin.Context) { c.Header("Cache-Control", "no-store") }
