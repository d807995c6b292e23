package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/apperr"
	"gatehouse/app/web"
	"gatehouse/tenants"
)

// Register is POST /register: the sign-up form, with one form field per
// registration field, named by its key.
func (h *Handlers) Register(c *gin.Context) {
	t := tenants.FromGin(c)
	returnTo := web.SafeReturnTo(c.PostForm("return_to"))
	values := formValues(c, t.Fields)
	in := Registration{Email: c.PostForm("email"), Password: c.PostForm("password"), Values: values}
	res, err := h.svc.Register(c.Request.Context(), t, in, h.request(c))
	if err == nil {
		if res.CheckInbox() {
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
