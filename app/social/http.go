package social

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"gatehouse/app/accounts"
	"gatehouse/app/hosted"
	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// Sessions is what the handlers need from customer accounts: who is signed
// in, and how to sign someone in.
type Sessions interface {
	SignIn(c *gin.Context, t *tenants.Tenant, cust *accounts.Customer, returnTo string, amr ...string)
	Request(c *gin.Context) accounts.Request
}

// Handlers serve /social/… on a tenant's host.
type Handlers struct {
	svc      *Service
	sessions Sessions
	render   *web.Renderer
	pages    *hosted.Pages
	secure   bool
}

// NewHandlers returns the social handlers.
func NewHandlers(svc *Service, sessions Sessions, render *web.Renderer, pages *hosted.Pages, secure bool) *Handlers {
	return &Handlers{svc: svc, sessions: sessions, render: render, pages: pages, secure: secure}
}

// browserCookie binds a flow to the browser that started it.
const browserCookie = "gh_social"

// Start is GET /social/:provider: off to the provider. ?link=1 (signed in)
// links the provider to the current account instead of signing in.
func (h *Handlers) Start(c *gin.Context) {
	t := tenants.FromGin(c)
	var linkTo *accounts.Customer
	if c.Query("link") == "1" {
		if linkTo = accounts.CustomerOf(c); linkTo == nil {
			c.Redirect(http.StatusSeeOther, "/login?return_to="+url.QueryEscape("/account"))
			return
		}
	}
	redirect, browser, formPost, err := h.svc.Start(c.Request.Context(), t, c.Param("provider"), web.SafeReturnTo(c.Query("return_to")), linkTo)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			h.render.Error(c, err)
			return
		}
		h.fail(c, "social-failed", "")
		return
	}
	cookie := &http.Cookie{Name: browserCookie, Value: browser, Path: "/social/", MaxAge: int(FlowTTL.Seconds()), HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode}
	if formPost && h.secure {
		// Apple posts the callback cross-site: only a SameSite=None cookie
		// comes along.
		cookie.SameSite = http.SameSiteNoneMode
	}
	http.SetCookie(c.Writer, cookie)
	c.Redirect(http.StatusSeeOther, redirect)
}

// Callback is GET|POST /social/:provider/callback.
func (h *Handlers) Callback(c *gin.Context) {
	t := tenants.FromGin(c)
	state, code, providerErr := formOrQuery(c, "state"), formOrQuery(c, "code"), formOrQuery(c, "error")
	browser, _ := c.Cookie(browserCookie)
	http.SetCookie(c.Writer, &http.Cookie{Name: browserCookie, Value: "", Path: "/social/", MaxAge: -1, HttpOnly: true, Secure: h.secure})
	if providerErr != "" {
		// Consume the state anyway so it cannot be replayed.
		_, _ = h.svc.Finish(c.Request.Context(), t, c.Param("provider"), state, "", "", nil, h.sessions.Request(c))
		h.fail(c, "social-denied", "")
		return
	}
	res, err := h.svc.Finish(c.Request.Context(), t, c.Param("provider"), state, code, browser, accounts.CustomerOf(c), h.sessions.Request(c))
	var lr *accounts.LinkRequired
	switch {
	case err == nil:
	case errors.As(err, &lr):
		h.fail(c, "social-exists", lr.Provider)
		return
	case errors.Is(err, errState):
		h.fail(c, "social-state", "")
		return
	case apperr.Is(err, apperr.Invalid):
		h.fail(c, "social-email", "")
		return
	case apperr.Is(err, apperr.Internal):
		h.render.Error(c, err)
		return
	default:
		h.fail(c, "social-failed", "")
		return
	}
	switch {
	case res.PendingLink != "":
		c.Redirect(http.StatusSeeOther, "/social/link?token="+url.QueryEscape(res.PendingLink))
	case res.Linked:
		c.Redirect(http.StatusSeeOther, "/account?notice=linked")
	default:
		h.sessions.SignIn(c, t, res.Customer, res.ReturnTo, accounts.AMRFederated)
	}
}

// ShowLink is GET /social/link: confirm linking with the account password.
func (h *Handlers) ShowLink(c *gin.Context) {
	t := tenants.FromGin(c)
	token := c.Query("token")
	cl, err := h.svc.PendingLink(c.Request.Context(), t, token)
	if err != nil {
		h.fail(c, "social-state", "")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	h.render.HTML(c, http.StatusOK, views.SocialLink(h.linkPage(c, t, cl, token, "")))
}

// ConfirmLink is POST /social/link.
func (h *Handlers) ConfirmLink(c *gin.Context) {
	t := tenants.FromGin(c)
	token := c.PostForm("token")
	cust, returnTo, err := h.svc.ConfirmLink(c.Request.Context(), t, token, c.PostForm("password"), h.sessions.Request(c))
	if err == nil {
		// The provider vouched for the customer and they typed the
		// account's password.
		h.sessions.SignIn(c, t, cust, returnTo, accounts.AMRFederated, accounts.AMRPassword)
		return
	}
	if errors.Is(err, errState) {
		h.fail(c, "social-state", "")
		return
	}
	cl, perr := h.svc.PendingLink(c.Request.Context(), t, token)
	if perr != nil || apperr.Is(err, apperr.Internal) {
		h.render.Error(c, err)
		return
	}
	if apperr.Is(err, apperr.TooMany) {
		web.SetRetryAfter(c, err)
	}
	c.Header("Cache-Control", "no-store")
	h.render.HTML(c, web.StatusOf(err), views.SocialLink(h.linkPage(c, t, cl, token, web.PublicMessage(err))))
}

// Unlink is POST /account/identities/:provider/unlink.
func (h *Handlers) Unlink(c *gin.Context) {
	t, cust := tenants.FromGin(c), accounts.CustomerOf(c)
	if err := h.svc.accounts.UnlinkIdentity(c.Request.Context(), t, cust, c.Param("provider"), "", h.sessions.Request(c)); err != nil {
		if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.NotFound) {
			c.Redirect(http.StatusSeeOther, "/account?notice=unlink-refused")
			return
		}
		h.render.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/account?notice=unlinked")
}

func (h *Handlers) linkPage(c *gin.Context, t *tenants.Tenant, cl accounts.Claims, token, msg string) views.SocialLinkPage {
	return views.SocialLinkPage{
		Page: h.pages.Page(t, "Link your account"), Brand: h.pages.Brand(c.Request.Context(), t),
		Provider: accounts.MethodName(t, cl.Provider), Email: cl.Email, Token: token, Error: msg,
		ByMail: t.Settings.BrandLoginOnly,
	}
}

// SendLinkMail is POST /social/link/mail: with brand login only, the
// waiting link is confirmed by a link mailed to the account's address.
func (h *Handlers) SendLinkMail(c *gin.Context) {
	t := tenants.FromGin(c)
	cl, err := h.svc.MailLink(c.Request.Context(), t, c.PostForm("token"))
	if errors.Is(err, errState) {
		h.fail(c, "social-state", "")
		return
	}
	if err != nil {
		h.render.Error(c, err)
		return
	}
	v := h.linkPage(c, t, cl, "", "")
	v.Sent = true
	c.Header("Cache-Control", "no-store")
	h.render.HTML(c, http.StatusOK, views.SocialLink(v))
}

// ShowMailedLink is GET /social/link/mail?token=: the page the mailed
// link opens. It only asks; the POST attaches.
func (h *Handlers) ShowMailedLink(c *gin.Context) {
	t := tenants.FromGin(c)
	token := c.Query("token")
	cl, err := h.svc.MailedLink(c.Request.Context(), t, token)
	if err != nil {
		h.fail(c, "social-state", "")
		return
	}
	v := h.linkPage(c, t, cl, token, "")
	v.Confirm = true
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	h.render.HTML(c, http.StatusOK, views.SocialLink(v))
}

// ConfirmMailedLink is POST /social/link/mail/confirm.
func (h *Handlers) ConfirmMailedLink(c *gin.Context) {
	t := tenants.FromGin(c)
	cust, returnTo, err := h.svc.ConfirmMailedLink(c.Request.Context(), t, c.PostForm("token"), h.sessions.Request(c))
	if errors.Is(err, errState) {
		h.fail(c, "social-state", "")
		return
	}
	if err != nil {
		h.render.Error(c, err)
		return
	}
	h.sessions.SignIn(c, t, cust, returnTo, accounts.AMRFederated)
}

// fail lands on the branded login page with a message.
func (h *Handlers) fail(c *gin.Context, notice, provider string) {
	u := "/login?notice=" + notice
	if provider != "" {
		u += "&provider=" + url.QueryEscape(provider)
	}
	c.Redirect(http.StatusSeeOther, u)
}

func formOrQuery(c *gin.Context, key string) string {
	if v, ok := c.GetPostForm(key); ok {
		return v
	}
	return c.Query(key)
}
