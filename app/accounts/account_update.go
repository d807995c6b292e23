package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// UpdateAccount is POST /account: the profile form.
func (h *Handlers) UpdateAccount(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	values := formValues(c, t.Fields)
	// An unticked checkbox is absent from the form: read it as empty.
	for _, f := range t.Fields {
		if _, ok := values[f.Key]; !ok {
			values[f.Key] = ""
		}
	}
	err := h.svc.UpdateProfile(c.Request.Context(), t, cust, values, h.request(c))
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/account?notice=saved")
		return
	}
	errs, formErr, ok := fieldErrors(err)
	if !ok {
		h.render.Error(c, err)
		return
	}
	v, perr := h.accountPage(c, t, cust)
	if perr != nil {
		h.render.Error(c, perr)
		return
	}
	v.Profile = views.ProfileForm{Fields: formFields(t.Fields, cust.Profile, values, errs), Error: formErr}
	noStore(c)
	h.render.HTML(c, http.StatusUnprocessableEntity, views.Account(v))
}
