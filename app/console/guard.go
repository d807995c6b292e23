package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/app/sessions"
	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
	views "gatehouse/views/console"
)

// viewer is the signed-in staff member of a request.
type viewer struct {
	staff access.Staff
	token string
}

// Keys of the gin context.
const (
	viewerKey = "console.viewer"
	tenantKey = "console.tenant"
	roleKey   = "console.role"
)

// authenticate reads the staff session cookie on every request. A valid
// session of an active staff member makes them the viewer; anything else
// leaves the request anonymous (the guard decides what that means).
func (h *Handlers) authenticate(c *gin.Context) {
	token := h.sessionToken(c)
	if token == "" {
		c.Next()
		return
	}
	ctx := c.Request.Context()
	sess, err := h.d.Sessions.Lookup(ctx, token, sessions.Staff, uuid.Nil, consoleHost(c))
	if err != nil {
		if !apperr.Is(err, apperr.Unauthorized) {
			h.d.Render.Error(c, err)
			return
		}
		h.clearSessionCookie(c)
		c.Next()
		return
	}
	st, err := h.d.Staff.ByID(ctx, sess.SubjectID)
	if err != nil || st.Status != access.Active {
		// A disabled or deleted staff member's sessions end at once.
		_ = h.d.Sessions.Revoke(ctx, token)
		h.clearSessionCookie(c)
		c.Next()
		return
	}
	c.Set(viewerKey, &viewer{staff: st, token: token})
	c.Next()
}

// guard enforces a route's rule. Someone who is not signed in is sent to
// sign in. A signed-in staff member with no role in the tenant (or, for
// platform pages, no platform role) gets the same 404 as an unknown tenant,
// so they learn nothing about it; one with a role but not this permission
// gets a 403.
func (h *Handlers) guard(rule Rule) gin.HandlerFunc {
	return func(c *gin.Context) {
		v := viewerOf(c)
		if v == nil {
			h.toLogin(c)
			return
		}
		ctx := c.Request.Context()
		var domain string
		switch rule.Scope {
		case SignedIn:
			c.Next()
			return
		case PlatformOnly:
			domain = access.PlatformDomain
		case InTenant:
			t, err := h.d.Tenants.BySlug(ctx, c.Param("slug"))
			if err != nil {
				h.d.Render.Error(c, notFound(err))
				return
			}
			domain = access.TenantDomain(t.ID)
			c.Set(tenantKey, t)
		default:
			h.d.Render.Error(c, apperr.New(apperr.Internal, "route without a rule"))
			return
		}
		rbac := h.d.Staff.RBAC()
		ok, err := rbac.Allowed(ctx, v.staff.ID, domain, rule.Perm)
		if err != nil {
			h.d.Render.Error(c, err)
			return
		}
		role, member, err := rbac.RoleIn(ctx, v.staff.ID, domain)
		if err != nil {
			h.d.Render.Error(c, err)
			return
		}
		if !ok {
			if member {
				c.Set(roleKey, role)
				h.forbidden(c)
			} else {
				h.d.Render.Error(c, apperr.New(apperr.NotFound, "page not found"))
			}
			return
		}
		c.Set(roleKey, role)
		c.Next()
	}
}

// notFound keeps an unknown slug and a lookup failure apart: the first is
// the neutral 404, the second a 500 with a logged cause.
func notFound(err error) error {
	if apperr.Is(err, apperr.NotFound) {
		return apperr.New(apperr.NotFound, "page not found")
	}
	return err
}

// toLogin sends an anonymous request to sign in: a page load is redirected
// there with its path to come back to, an htmx request is told to load the
// sign-in page, and anything else gets a 401.
func (h *Handlers) toLogin(c *gin.Context) {
	target := "/login"
	if c.Request.Method == http.MethodGet {
		target += "?return_to=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	if c.GetHeader("HX-Request") == "true" {
		c.Header("HX-Redirect", target)
		c.AbortWithStatus(http.StatusUnauthorized)
		return
	}
	c.Redirect(http.StatusSeeOther, target)
	c.Abort()
}

func viewerOf(c *gin.Context) *viewer {
	v, _ := c.Get(viewerKey)
	vw, _ := v.(*viewer)
	return vw
}

// tenantOf returns the tenant the guard resolved for a /t/:slug route.
func tenantOf(c *gin.Context) *tenants.Tenant {
	t, _ := c.Get(tenantKey)
	tn, _ := t.(*tenants.Tenant)
	return tn
}

// roleOf returns the viewer's role in the route's domain.
func roleOf(c *gin.Context) access.Role {
	r, _ := c.Get(roleKey)
	role, _ := r.(access.Role)
	return role
}

// actor is the viewer as the audit trail names them.
func actor(c *gin.Context) access.Actor {
	a := access.Actor{IP: c.ClientIP()}
	if v := viewerOf(c); v != nil {
		a.StaffID, a.Email = v.staff.ID, v.staff.Email
	}
	return a
}

// consoleHost is the request's host without port, which sessions are bound to.
func consoleHost(c *gin.Context) string { return tenants.NormalizeHost(c.Request.Host) }

// safeReturn accepts only a path on this host ("/t/acme"), never a
// scheme, a host or a protocol-relative "//evil".
func safeReturn(raw string) string {
	if raw == "" || len(raw) > 512 || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || strings.HasPrefix(raw, "/\\") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	if strings.ContainsAny(raw, "\r\n\t") || strings.HasPrefix(u.Path, "/login") || strings.HasPrefix(u.Path, "/logout") {
		return ""
	}
	return raw
}

// errForbidden is the guard's refusal to a member whose role lacks the
// permission.
var errForbidden = apperr.New(apperr.Forbidden, "Your role in this tenant does not allow this. Ask one of its owners if you need it.")

// forbidden answers a member of the tenant whose role lacks the permission:
// a console page (they may see the tenant's navigation) with the status
// the one mapper gives Forbidden; htmx gets the bare message.
func (h *Handlers) forbidden(c *gin.Context) {
	status := web.StatusOf(errForbidden)
	if c.GetHeader("HX-Request") == "true" {
		h.d.Render.Error(c, errForbidden)
		return
	}
	back := "/"
	if t := tenantOf(c); t != nil {
		back = "/t/" + t.Slug
	}
	ch := h.chrome(c, "Not allowed", tenantCrumbs(c, views.Crumb{Label: "Not allowed"})...)
	h.d.Render.HTML(c, status, views.Message(views.MessagePage{Chrome: ch, Title: "Not allowed", Message: errForbidden.Message, Back: back}))
	c.Abort()
}
