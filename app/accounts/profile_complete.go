package accounts

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/app/web"
	"gatehouse/tenants"
	views "gatehouse/views/hosted"
)

// ShowProfileComplete is GET /profile/complete: the missing required fields
// (which must be filled) and, now and then, the optional ones.
func (h *Handlers) ShowProfileComplete(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	returnTo := web.SafeReturnTo(c.Query("return_to"))
	p := h.svc.PromptFor(t, cust)
	if p.Empty() {
		c.Redirect(http.StatusSeeOther, h.next(t, cust, returnTo))
		return
	}
	noStore(c)
	h.render.HTML(c, http.StatusOK, views.ProfileComplete(h.profileCompletePage(c, t, cust, p, returnTo, nil, nil, "")))
}

func (h *Handlers) profileCompletePage(c *gin.Context, t *tenants.Tenant, cust *Customer, p Prompt, returnTo string, submitted map[string]string, errs tenants.FieldErrors, formErr string) views.ProfileCompletePage {
	return views.ProfileCompletePage{
		Page: h.pages.Page(t, "Complete your profile"), Brand: h.pages.Brand(c.Request.Context(), t),
		Required: formFields(p.Required, cust.Profile, submitted, errs),
		Optional: formFields(p.Optional, cust.Profile, submitted, errs),
		CanSkip:  len(p.Required) == 0, ReturnTo: returnTo, Error: formErr,
	}
}

// CompleteProfile is POST /profile/complete; skip=1 is "Not now".
func (h *Handlers) CompleteProfile(c *gin.Context) {
	t, cust := tenants.FromGin(c), customerOf(c)
	returnTo := web.SafeReturnTo(c.PostForm("return_to"))
	p := h.svc.PromptFor(t, cust)
	asked := append(append([]tenants.Field(nil), p.Required...), p.Optional...)
	values := formValues(c, asked)
	err := h.svc.CompleteProfile(c.Request.Context(), t, cust, values, c.PostForm("skip") == "1", h.request(c))
	if err == nil {
		if returnTo == "" {
			returnTo = "/account"
		}
		c.Redirect(http.StatusSeeOther, returnTo)
		return
	}
	errs, formErr, ok := fieldErrors(err)
	if !ok {
		h.render.Error(c, err)
		return
	}
	noStore(c)
	h.render.HTML(c, http.StatusUnprocessableEntity, views.ProfileComplete(h.profileCompletePage(c, t, cust, p, returnTo, values, errs, formErr)))
}
