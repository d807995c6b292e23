package accounts

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// Register is POST /register (and POST /login with intent=signup, which
// the hosted form uses): the sign-up form, with one form field per
// registration field, named by its key.
func (h *Handlers) Register(c *gin.Context) {
	t := tenants.FromGin(c)
	returnTo := web.SafeReturnTo(c.PostForm("return_to"))
	values := formValues(c, t.Fields)
	in := Registration{Email: c.PostForm("email"), Password: c.PostForm("password"), Values: values, ReturnTo: returnTo}
	var browser string
	if returnTo != "" {
		browser = randomValue()
		in.Browser = BrowserBinding(browser)
	}
	res, err := h.svc.Register(c.Request.Context(), t, in, h.request(c))
	if err == nil {
		if res.CheckInbox() {
			// The mailed link carries on to returnTo when it is opened in
			// this browser (VerifyEmailInFlow). The cookie is set whether
			// or not the address was new, so the answer stays the same.
			if browser != "" {
				h.setSignupCookie(c, browser, int(VerifyTTL/time.Second))
			}
			c.Redirect(http.StatusSeeOther, "/login?notice=verify")
			return
		}
		h.signIn(c, t, res.Customer, returnTo, AMRPassword)
		return
	}
	errs, formErr, ok := fieldErrors(err)
	if !ok {
		h.render.Error(c, err)
		return
	}
	if apperr.Is(err, apperr.Unavailable) || apperr.Is(err, apperr.TooMany) {
		web.SetRetryAfter(c, err)
	}
	v := h.loginPage(c, t, "signup", returnTo)
	v.Signup.Email = in.Email
	v.Signup.EmailError = errs["email"]
	v.Signup.PasswordError = errs["password"]
	v.Signup.Error = formErr
	v.Signup.Fields = signupFields(t, values, errs)
	status := http.StatusUnprocessableEntity
	if apperr.Is(err, apperr.Conflict) {
		status = http.StatusConflict
	} else if s := web.StatusOf(err); s >= 500 || s == http.StatusTooManyRequests {
		status = s
	}
	h.renderLogin(c, status, v)
}

// setSignupCookie binds a sign-up that waits for its verification link to
// this browser; maxAge -1 removes it.
func (h *Handlers) setSignupCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: h.signup, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

func randomValue() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RegisterShow is GET /register: someone who typed the address, or
// reloaded an old form, gets the sign-up form at its real URL.
func (h *Handlers) RegisterShow(c *gin.Context) {
	c.Redirect(http.StatusSeeOther, "/login?mode=signup")
}
