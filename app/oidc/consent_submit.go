package oidc

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"gatehouse/app/hosted"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// ConsentPath is where the consent page posts.
const ConsentPath = "/oauth/consent"

// Consent is POST /oauth/consent: the customer's answer to a third-party
// app. The sign-in is checked again, as on the way in.
func (h *Handlers) Consent(c *gin.Context) {
	t := tenants.FromGin(c)
	ctx := c.Request.Context()
	req, err := h.storage.Request(ctx, t, c.PostForm("id"))
	if err != nil {
		h.errorPage(c, t, "This sign-in link has expired. Go back to the app and try again.")
		return
	}
	cust, si, ok := h.signedIn(c, t, req)
	if !ok {
		c.Redirect(http.StatusSeeOther, LoginPath+"?id="+req.ID)
		return
	}
	if c.PostForm("decision") != "allow" {
		redirectError(c, req.GetRedirectURI(), string(req.GetResponseMode()), req.GetState(), string(oidc.AccessDenied), "the customer did not allow this app")
		return
	}
	if err := h.storage.Consent(ctx, t, cust.ID, req.AppID, req.GetScopes()); err != nil {
		h.render.Error(c, err)
		return
	}
	h.finish(c, t, req, cust, si)
}

func consentPage(p *hosted.Pages, c *gin.Context, t *tenants.Tenant, appName string, req *Request) templ.Component {
	page := p.Page(t, "Allow "+appName+"?")
	page.NoIndex = true
	var scopes []string
	for _, sc := range req.GetScopes() {
		switch sc {
		case oidc.ScopeOpenID:
			scopes = append(scopes, "that it is you (an id for your account)")
		case oidc.ScopeEmail:
			scopes = append(scopes, "your email address")
		case oidc.ScopeProfile:
			scopes = append(scopes, "your name and profile")
		case oidc.ScopePhone:
			scopes = append(scopes, "your phone number")
		case oidc.ScopeOfflineAccess:
			scopes = append(scopes, "your account while you are away (it stays signed in)")
		default:
			if d, ok := scopeDescription(t, sc); ok {
				scopes = append(scopes, d)
			} else {
				scopes = append(scopes, sc)
			}
		}
	}
	return views.Consent(views.ConsentPage{Page: page, Brand: p.Brand(c.Request.Context(), t), AppName: appName, RequestID: req.ID, Scopes: scopes})
}
