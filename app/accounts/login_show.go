package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// ShowLogin is GET /login: log-in and sign-up on one URL. ?mode=signup
// opens the sign-up half; an htmx request gets just the panel.
func (h *Handlers) ShowLogin(c *gin.Context) {
	t := tenants.FromGin(c)
	returnTo := web.SafeReturnTo(c.Query("return_to"))
	// reauth=1 is an app asking the customer to sign in again (OpenID
	// prompt=login or an exceeded max_age): show the form despite the session.
	if cust := customerOf(c); cust != nil && c.Query("reauth") != "1" {
		c.Redirect(http.StatusSeeOther, h.next(t, cust, returnTo))
		return
	}
	v := h.loginPage(c, t, c.Query("mode"), returnTo)
	// login_hint is the address an app suggests; it only prefills the forms.
	if hint, err := NormalizeEmail(c.Query("login_hint")); err == nil {
		v.Login.Email, v.Signup.Email = hint, hint
	}
	switch c.Query("notice") {
	case "reset":
		v.Notice = views.Notice{Kind: "success", Message: "Your password was changed. Log in with your new password."}
	case "verify":
		v.Notice = views.Notice{Kind: "info", Message: "Check your inbox: we sent you a link to confirm your email address."}
	case "logout":
		v.Notice = views.Notice{Kind: "info", Message: "You have logged out."}
	case "social-state":
		v.Notice = views.Notice{Kind: "error", Message: "That sign-in attempt expired or was not started here. Please try again."}
	case "social-denied":
		v.Notice = views.Notice{Kind: "warning", Message: "Sign-in was cancelled at the provider. You can try again or use another way to sign in."}
	case "social-failed":
		v.Notice = views.Notice{Kind: "error", Message: "We could not complete sign-in with that provider. Please try again."}
	case "social-email":
		v.Notice = views.Notice{Kind: "error", Message: "The provider did not share an email address with us, so we cannot sign you in that way."}
	case "social-exists":
		v.Notice = views.Notice{Kind: "warning", Message: "An account with your email address already exists. Log in with your password first, then link " + MethodName(t, c.Query("provider")) + " from your account page."}
		if t.Settings.BrandLoginOnly {
			v.Notice.Message = "An account with your email address already exists, but " + MethodName(t, c.Query("provider")) + " did not confirm the address, so it cannot be attached. Please contact " + t.Name + " support."
		}
	}
	h.renderLogin(c, http.StatusOK, v)
}

func (h *Handlers) loginPage(c *gin.Context, t *tenants.Tenant, mode, returnTo string) views.LoginPage {
	if mode != "signup" {
		mode = "login"
	}
	v := views.LoginPage{
		Page: h.pages.Page(t, "Log in"), Brand: h.pages.Brand(c.Request.Context(), t), Mode: mode, ReturnTo: returnTo,
		Signup:              views.SignupForm{Fields: signupFields(t, nil, nil), MinPasswordLength: t.Settings.MinPasswordLength},
		PasswordFormsHidden: t.Settings.BrandLoginOnly,
	}
	if h.buttons != nil {
		v.Providers = h.buttons.Buttons(c.Request.Context(), t, returnTo)
	}
	return v
}

// signupFields are the fields on the sign-up form: required and optional,
// not "later" ones.
func signupFields(t *tenants.Tenant, submitted map[string]string, errs tenants.FieldErrors) []views.FormField {
	return formFields(SignupFields(t.Fields), nil, submitted, errs)
}

// SignupFields picks the fields the sign-up form asks for.
func SignupFields(fields []tenants.Field) []tenants.Field {
	var out []tenants.Field
	for _, f := range fields {
		if f.Capture != tenants.CaptureLater {
			out = append(out, f)
		}
	}
	return out
}

// SignupPreview is the sign-up form's inputs for a field list, empty, as a
// new customer sees them; the console's field editor previews it.
func SignupPreview(fields []tenants.Field) []views.FormField {
	return formFields(SignupFields(fields), nil, nil, nil)
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
