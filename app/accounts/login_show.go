package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/hosted"
	"gatehouse/app/web"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// ShowLogin is GET /login: log-in and sign-up on one URL. ?mode=signup
// opens the sign-up half; an htmx request gets just the panel.
func (h *Handlers) ShowLogin(c *gin.Context) {
	t := tenants.FromGin(c)
	returnTo := web.SafeReturnTo(c.Query("return_to"))
	if cust := customerOf(c); cust != nil {
		c.Redirect(http.StatusSeeOther, h.next(t, cust, returnTo))
		return
	}
	v := h.loginPage(t, c.Query("mode"), returnTo)
	switch c.Query("notice") {
	case "reset":
		v.Notice = views.Notice{Kind: "success", Message: "Your password was changed. Log in with your new password."}
	case "verify":
		v.Notice = views.Notice{Kind: "info", Message: "Check your inbox: we sent you a link to confirm your email address."}
	case "logout":
		v.Notice = views.Notice{Kind: "info", Message: "You have logged out."}
	}
	h.renderLogin(c, http.StatusOK, v)
}

func (h *Handlers) loginPage(t *tenants.Tenant, mode, returnTo string) views.LoginPage {
	if mode != "signup" {
		mode = "login"
	}
	return views.LoginPage{
		Page: h.pages.Page(t, "Log in"), Brand: hosted.Brand(t), Mode: mode, ReturnTo: returnTo,
		Signup: views.SignupForm{Fields: signupFields(t, nil, nil), MinPasswordLength: t.Settings.MinPasswordLength},
	}
}

// signupFields are the fields on the sign-up form: required and optional,
// not "later" ones.
func signupFields(t *tenants.Tenant, submitted map[string]string, errs tenants.FieldErrors) []views.FormField {
	var fields []tenants.Field
	for _, f := range t.Fields {
		if f.Capture != tenants.CaptureLater {
			fields = append(fields, f)
		}
	}
	return formFields(fields, nil, submitted, errs)
}

func (h *Handlers) renderLogin(c *gin.Context, status int, v views.LoginPage) {
	noStore(c)
	c.Header("Vary", "HX-Request")
	if isHTMX(c) {
		h.render.HTML(c, status, views.LoginPanel(v))
		return
	}
	h.render.HTML(c, status, views.Login(v))
}
