package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// VerifyEmail is GET /verify-email?token=…, the link in the verification
// mail. The token is single-use and proves control of the mailbox, which
// is all the link asserts, so following it is safe to do on GET.
func (h *Handlers) VerifyEmail(c *gin.Context) {
	t := tenants.FromGin(c)
	c.Header("Referrer-Policy", "no-referrer")
	noStore(c)
	v := views.VerifyPage{Page: h.pages.Page(t, "Confirm your email"), Brand: h.pages.Brand(c.Request.Context(), t), SignedIn: customerOf(c) != nil}
	browser, _ := c.Cookie(h.signup)
	cust, returnTo, err := h.svc.VerifyEmailInFlow(c.Request.Context(), t, c.Query("token"), browser, h.request(c))
	if err == nil && returnTo != "" {
		// Opened in the browser that signed up on its way somewhere (an
		// app's authorization): carry on there, signed in. The customer
		// chose the password in this browser moments ago.
		h.setSignupCookie(c, "", -1)
		h.signIn(c, t, cust, returnTo, AMRPassword)
		return
	}
	switch {
	case err == nil:
		v.OK, v.Message = true, "Thank you: your email address is confirmed."
	case apperr.Is(err, apperr.Invalid):
		v.Message = "This confirmation link has expired or was already used."
	default:
		h.render.Error(c, err)
		return
	}
	status := http.StatusOK
	if !v.OK {
		status = http.StatusGone
	}
	h.render.HTML(c, status, views.Verify(v))
}

// ResendVerification is POST /verify-email/resend: from /account for the
// signed-in customer, or from the login page with an email. The answer is
// the same whether or not the address has an account.
func (h *Handlers) ResendVerification(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	err := h.svc.ResendVerification(c.Request.Context(), t, cust, c.PostForm("email"))
	if err != nil && !apperr.Is(err, apperr.Invalid) {
		if apperr.Is(err, apperr.TooMany) {
			web.SetRetryAfter(c, err)
		}
		h.render.Error(c, err)
		return
	}
	if cust != nil {
		c.Redirect(http.StatusSeeOther, "/account?notice=resent")
		return
	}
	c.Redirect(http.StatusSeeOther, "/login?notice=verify")
}
