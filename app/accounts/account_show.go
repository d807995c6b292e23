package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// ShowAccount is GET /account.
func (h *Handlers) ShowAccount(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	v, err := h.accountPage(c, t, cust)
	if err != nil {
		h.render.Error(c, err)
		return
	}
	switch c.Query("notice") {
	case "saved":
		v.Notice = views.Notice{Kind: "success", Message: "Your profile was saved."}
	case "password":
		v.Notice = views.Notice{Kind: "success", Message: "Your password was changed. Other devices were signed out."}
	case "verified":
		v.Notice = views.Notice{Kind: "success", Message: "Your email address is confirmed."}
	case "resent":
		v.Notice = views.Notice{Kind: "info", Message: "We sent you a new confirmation link."}
	case "linked":
		v.Notice = views.Notice{Kind: "success", Message: "Linked: you can now sign in either way."}
	case "unlinked":
		v.Notice = views.Notice{Kind: "success", Message: "Removed."}
	case "app-revoked":
		v.Notice = views.Notice{Kind: "success", Message: "That app no longer has access to your account."}
	case "unlink-refused":
		v.Notice = views.Notice{Kind: "warning", Message: "That is the only way to sign in to this account. Add a password or link another provider first."}
	}
	noStore(c)
	h.render.HTML(c, http.StatusOK, views.Account(v))
}

func (h *Handlers) accountPage(c *gin.Context, t *tenants.Tenant, cust *Customer) (views.AccountPage, error) {
	ids, err := h.svc.Methods(c.Request.Context(), t, cust)
	if err != nil {
		return views.AccountPage{}, err
	}
	var methods []views.SignInMethod
	if cust.HasPassword() && !t.Settings.BrandLoginOnly {
		methods = append(methods, views.SignInMethod{Name: "Password", Detail: cust.Email})
	}
	linked := map[string]bool{}
	brandOnly := t.Settings.BrandLoginOnly
	for _, id := range ids {
		m := views.SignInMethod{Name: MethodName(t, id.Provider), Detail: id.Email}
		// The last way to sign in cannot be removed, and with brand login
		// only the brand's identity is the way in.
		brandID := id.Provider == "oidc" || id.Provider == "oauth2"
		if (cust.HasPassword() && !brandOnly || len(ids) > 1) && !(brandOnly && brandID) {
			m.UnlinkURL = "/account/identities/" + id.Provider + "/unlink"
		}
		methods = append(methods, m)
		linked[id.Provider] = true
	}
	var link []views.Provider
	if h.buttons != nil {
		for _, p := range h.buttons.Buttons(c.Request.Context(), t, "") {
			if !linked[p.Key] {
				p.URL += "?link=1"
				link = append(link, p)
			}
		}
	}
	signedIn, err := h.svc.SignedInApps(c.Request.Context(), t, cust)
	if err != nil {
		return views.AccountPage{}, err
	}
	apps := make([]views.SignedInApp, 0, len(signedIn))
	for _, a := range signedIn {
		apps = append(apps, views.SignedInApp{Name: a.Name, RevokeURL: "/account/apps/" + a.AppID.String() + "/revoke"})
	}
	return views.AccountPage{
		Page: h.pages.Page(t, "Your account"), Brand: h.pages.Brand(c.Request.Context(), t), Apps: apps,
		Email: cust.Email, EmailVerified: cust.EmailVerified,
		Profile:  views.ProfileForm{Fields: formFields(t.Fields, cust.Profile, nil, nil)},
		Password: views.PasswordForm{Off: t.Settings.BrandLoginOnly, HasPassword: cust.HasPassword(), MinPasswordLength: t.Settings.MinPasswordLength},
		Methods:  methods, LinkProviders: link,
	}, nil
}
