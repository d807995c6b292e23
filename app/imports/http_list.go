package imports

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"gatehouse/tenants"
	views "gatehouse/views/imports"
)

// List shows the upload form, the tenant's imports and its campaigns.
func (h *Handlers) List(c *gin.Context) {
	t := h.tenant(c)
	if t == nil {
		return
	}
	v, err := h.listPage(c, t)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.page(c, http.StatusOK, "Imports", views.List(v))
}

func (h *Handlers) listPage(c *gin.Context, t *tenants.Tenant) (views.ListPage, error) {
	ctx := c.Request.Context()
	list, err := h.d.Service.Jobs(ctx, t.ID)
	if err != nil {
		return views.ListPage{}, err
	}
	v := views.ListPage{Base: base(t), MaxUpload: humanBytes(h.d.MaxUpload)}
	for _, j := range list {
		row := views.JobRow{Href: jobHref(t, j), FileName: j.FileName, Status: statusView(j.Status, j.DryRun), Rows: fmtInt(j.Rows), Created: when(j.CreatedAt)}
		switch {
		case j.Result.Run != nil:
			row.Summary = summary(*j.Result.Run, false)
		case j.Result.Dry != nil:
			row.Summary = "dry run: " + summary(*j.Result.Dry, true)
		case j.Error != "":
			row.Summary = clipTo(j.Error, maxMessage)
		}
		v.Jobs = append(v.Jobs, row)
	}
	if h.d.Campaigns != nil {
		if v.Campaigns, err = h.campaignsPanel(c, t); err != nil {
			return views.ListPage{}, err
		}
	}
	return v, nil
}

func summary(c Counts, dry bool) string {
	verb := "created"
	if dry {
		verb = "to create"
	}
	return fmtInt(c.Created) + " " + verb + " · " + fmtInt(c.Updated) + " updated · " + fmtInt(c.Skipped) + " skipped · " + fmtInt(c.Rejected) + " rejected"
}
