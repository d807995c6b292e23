package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/audit"
	views "gatehouse/views/console"
)

const auditPageSize = 50

// auditQuery is the audit log's filter as the query string has it.
type auditQuery struct {
	views.AuditFilter
	Before string
}

func bindAudit(c *gin.Context) auditQuery {
	q := func(k string) string { return strings.TrimSpace(c.Query(k)) }
	return auditQuery{AuditFilter: views.AuditFilter{Actor: q("actor"), Action: q("action"), Target: q("target"), From: q("from"), To: q("to")}, Before: q("before")}
}

// filter turns the query into a store filter, naming any bad field.
func (q auditQuery) filter() (audit.Filter, views.Errors) {
	f := audit.Filter{Actor: q.Actor, Action: q.Action, Target: q.Target, Limit: auditPageSize + 1}
	errs := views.Errors{}
	if q.From != "" {
		d, err := time.Parse(time.DateOnly, q.From)
		if err != nil {
			errs["from"] = "use a date, YYYY-MM-DD"
		}
		f.From = d
	}
	if q.To != "" {
		d, err := time.Parse(time.DateOnly, q.To)
		if err != nil {
			errs["to"] = "use a date, YYYY-MM-DD"
		}
		f.To = d.Add(24 * time.Hour) // the whole "to" day
	}
	if q.Before != "" {
		id, err := uuid.Parse(q.Before)
		if err != nil {
			errs["before"] = "is not an event id"
		}
		f.Before = id
	}
	if len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

// next is the URL of the page after the event with id last.
func (q auditQuery) next(slug string, last uuid.UUID) string {
	v := url.Values{}
	for k, val := range map[string]string{"actor": q.Actor, "action": q.Action, "target": q.Target, "from": q.From, "to": q.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	v.Set("before", last.String())
	return "/t/" + slug + "/audit?" + v.Encode()
}

// AuditList is GET /t/:slug/audit: the tenant's events, filtered, 50 at a
// time by keyset on the event id. An htmx "Older events" gets the next
// chunk alone.
func (h *Handlers) AuditList(c *gin.Context) {
	t := tenantOf(c)
	q := bindAudit(c)
	v := views.AuditPage{Slug: t.Slug, Filter: q.AuditFilter}
	f, errs := q.filter()
	status := http.StatusOK
	if errs != nil {
		v.Errors, status = errs, http.StatusUnprocessableEntity
	} else {
		events, ids, err := h.d.Audit.List(c.Request.Context(), t.ID, f)
		if err != nil {
			h.d.Render.Error(c, err)
			return
		}
		if len(events) > auditPageSize {
			events, ids = events[:auditPageSize], ids[:auditPageSize]
			v.NextURL = q.next(t.Slug, ids[len(ids)-1])
		}
		v.Rows = h.activity(c.Request.Context(), t, events)
	}
	if isHTMX(c) && q.Before != "" {
		h.d.Render.HTML(c, status, views.AuditChunk(v))
		return
	}
	v.Chrome = h.chrome(c, "Audit log · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Audit log"})...)
	h.d.Render.HTML(c, status, views.Audit(v))
}
