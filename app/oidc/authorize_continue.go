package oidc

import (
	"net/http"
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"gatehouse/app/accounts"
	"gatehouse/app/hosted"
	"gatehouse/app/sessions"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// Continue is the provider's login UI entry (op sends the browser here
// with the auth request id) and the place every hosted sign-in returns to,
// through return_to: password log-in, sign-up, profile completion and
// social sign-in all end with "go to return_to". So the hook is generic:
// once the customer is signed in on this host, and the sign-in is recent
// enough for the request, the request is finished and the browser goes on
// to op's callback, which redirects to the app with the code.
//
// The customer's session on this host is the provider's session: a second
// app of the same tenant gets single sign-on, and another tenant's host
// never sees the cookie.
func (h *Handlers) Continue(c *gin.Context) {
	t := tenants.FromGin(c)
	ctx := c.Request.Context()
	req, err := h.storage.Request(ctx, t, c.Query("id"))
	if err != nil {
		h.errorPage(c, t, "This sign-in link has expired. Go back to the app and try again.")
		return
	}
	if req.Complete {
		c.Redirect(http.StatusSeeOther, CallbackPath+"?id="+url.QueryEscape(req.ID))
		return
	}
	cust, si, ok := h.signedIn(c, t, req)
	if !ok {
		if hasPrompt(req, oidc.PromptNone) {
			redirectError(c, req.GetRedirectURI(), string(req.GetResponseMode()), req.GetState(), string(oidc.LoginRequired), "the customer is not signed in")
			return
		}
		q := url.Values{"return_to": {LoginPath + "?id=" + req.ID}}
		if hasPrompt(req, promptCreate) {
			q.Set("mode", "signup")
		}
		if hint := req.LoginHint(); hint != "" {
			q.Set("login_hint", hint)
		}
		if cust != nil {
			q.Set("reauth", "1")
		}
		c.Redirect(http.StatusSeeOther, "/login?"+q.Encode())
		return
	}
	a, err := h.storage.apps.For(t.ID).ByClientID(ctx, req.GetClientID())
	if err != nil {
		h.errorPage(c, t, "This app is no longer registered with "+t.Name+".")
		return
	}
	// A third-party app needs the customer's consent to what it asks for;
	// the brand's own apps do not.
	if !a.FirstParty {
		consented, err := h.storage.Consented(ctx, t, cust.ID, a.ID, req.GetScopes())
		if err != nil {
			h.render.Error(c, err)
			return
		}
		if !consented || hasPrompt(req, oidc.PromptConsent) {
			if hasPrompt(req, oidc.PromptNone) {
				redirectError(c, req.GetRedirectURI(), string(req.GetResponseMode()), req.GetState(), "consent_required", "the customer has not allowed this app")
				return
			}
			c.Header("Cache-Control", "no-store")
			h.render.HTML(c, http.StatusOK, consentPage(h.pages, c, t, a.Name, req))
			return
		}
	}
	h.finish(c, t, req, cust, si)
}

// signedIn returns the customer signed in on this host and when, and
// whether that sign-in satisfies the request: it must be recent enough for
// max_age (prompt=login sets it to 0), and prompt=create wants a sign-up
// made for this request.
func (h *Handlers) signedIn(c *gin.Context, t *tenants.Tenant, req *Request) (*accounts.Customer, signIn, bool) {
	cust := customerOf(c)
	if cust == nil {
		return nil, signIn{}, false
	}
	sess, err := h.storage.sessions.Lookup(c.Request.Context(), sessionTokenOf(c), sessions.Customer, t.ID, tenants.NormalizeHost(c.Request.Host))
	if err != nil {
		return nil, signIn{}, false
	}
	authTime := sess.CreatedAt
	// fresh: the customer signed in after the app asked.
	fresh := !authTime.Truncate(time.Microsecond).Before(req.CreatedAt.Truncate(time.Microsecond))
	ok := fresh || req.MaxAge() == nil || time.Since(authTime) <= time.Duration(*req.MaxAge())*time.Second
	if hasPrompt(req, promptCreate) && !fresh {
		ok = false
	}
	return cust, signIn{at: authTime, amr: sess.AMR}, ok
}

// signIn is when and how the customer signed in on this host: the
// session's start and the methods it recorded.
type signIn struct {
	at  time.Time
	amr []string
}

// finish marks the request signed in and sends the browser on to op's
// callback, which redirects to the app with the code.
// The id_token reports the session's sign-in time as auth_time and how the
// customer signed in (the session's methods) as amr.
func (h *Handlers) finish(c *gin.Context, t *tenants.Tenant, req *Request, cust *accounts.Customer, si signIn) {
	if err := h.storage.Finish(c.Request.Context(), t, req.ID, cust.ID, si.at, si.amr); err != nil {
		h.errorPage(c, t, "This sign-in link has expired. Go back to the app and try again.")
		return
	}
	// The session now holds a sign-in to the app: its sid goes in the
	// id_tokens and its end reaches the app (backchannel.go).
	if err := h.storage.BindSession(c.Request.Context(), t, req, cust.ID, sessionTokenOf(c), h.op.IssuerFromRequest(c.Request)); err != nil {
		h.render.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, CallbackPath+"?id="+url.QueryEscape(req.ID))
}

func customerOf(c *gin.Context) *accounts.Customer { return accounts.CustomerOf(c) }

func sessionTokenOf(c *gin.Context) string { return accounts.SessionTokenOf(c) }

func oauthErrorPage(p *hosted.Pages, c *gin.Context, t *tenants.Tenant, msg string) templ.Component {
	page := p.Page(t, "Sign-in problem")
	page.NoIndex = true
	return views.OAuthError(views.OAuthErrorPage{Page: page, Brand: p.Brand(c.Request.Context(), t), Message: msg})
}

// promptCreate is OpenID Connect's prompt=create (Initiating User
// Registration): open the sign-up panel.
const promptCreate = "create"
