package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/apperr"
	"gatehouse/tenants"
	"gatehouse/views/components"
	views "gatehouse/views/console"
)

// inviteForm is what POST /t/:slug/staff takes.
type inviteForm struct {
	Email string
	Role  string
}

func bindInvite(c *gin.Context) inviteForm {
	return inviteForm{Email: strings.TrimSpace(c.PostForm("email")), Role: c.PostForm("role")}
}

func (h *Handlers) renderStaff(c *gin.Context, status int, t *tenants.Tenant, invite inviteForm, errs views.Errors, errMsg string) {
	ctx := c.Request.Context()
	members, err := h.d.Staff.Members(ctx, t.ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	v := viewerOf(c)
	canManage, _ := h.d.Staff.RBAC().Allowed(ctx, v.staff.ID, access.TenantDomain(t.ID), access.Perm{Object: access.Team, Action: access.Write})
	page := views.StaffPage{Slug: t.Slug, CanManage: canManage, Error: errMsg,
		Invite: views.InviteForm{Email: invite.Email, Roles: roleOptions(access.Role(invite.Role)), Errors: errs}}
	if invite.Role == "" {
		page.Invite.Roles = roleOptions(access.Support)
	}
	for _, m := range members {
		row := views.MemberRow{ID: m.ID.String(), Email: m.Email, Role: string(m.Role), RoleLabel: m.Role.Label(),
			Status: string(m.Status), You: m.ID == v.staff.ID, Roles: roleOptions(m.Role), LastLogin: "never"}
		if !m.LastLoginAt.IsZero() {
			row.LastLogin = m.LastLoginAt.Format("2006-01-02 15:04")
		}
		page.Members = append(page.Members, row)
	}
	pending, err := h.d.Staff.Invitations(ctx, t.ID)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	for _, p := range pending {
		page.Pending = append(page.Pending, views.PendingRow{StaffID: p.StaffID.String(), Email: p.Email, RoleLabel: p.Role.Label(),
			InvitedBy: p.InvitedBy, Expires: p.ExpiresAt.Format("2006-01-02 15:04")})
	}
	page.Chrome = h.chrome(c, "Staff · "+t.Name, tenantCrumbs(c, views.Crumb{Label: "Staff"})...)
	h.d.Render.HTML(c, status, views.Staff(page))
}

// StaffList is GET /t/:slug/staff.
func (h *Handlers) StaffList(c *gin.Context) {
	h.renderStaff(c, http.StatusOK, tenantOf(c), inviteForm{}, nil, "")
}

// invitesPerHour bounds the invitations one tenant sends.
const invitesPerHour = 30

// StaffInvite is POST /t/:slug/staff: invite by email with a role. The
// answer is the same whether or not the address has a console account.
func (h *Handlers) StaffInvite(c *gin.Context) {
	t := tenantOf(c)
	f := bindInvite(c)
	// Invitations send mail to any address typed: a tenant gets a budget.
	if err := h.d.Limiter.Allow(c.Request.Context(), "console:invite:"+t.ID.String(), invitesPerHour, time.Hour); err != nil {
		h.d.Render.Error(c, err)
		return
	}
	role, err := access.ParseRole(f.Role)
	if err == nil {
		err = h.d.Staff.Invite(c.Request.Context(), actor(c), access.Invitation{TenantID: t.ID, Email: f.Email, Role: role})
	}
	if err != nil {
		errs, status, ok := formError(err)
		if !ok {
			h.d.Render.Error(c, err)
			return
		}
		h.renderStaff(c, status, t, f, errs, "")
		return
	}
	h.done(c, "Invitation sent to "+strings.ToLower(f.Email)+".", "/t/"+t.Slug+"/staff")
}

// memberID reads :id; a malformed id is a page that does not exist.
func (h *Handlers) memberID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		h.d.Render.Error(c, apperr.New(apperr.NotFound, "no such staff member"))
		return uuid.Nil, false
	}
	return id, true
}

// StaffRole is POST /t/:slug/staff/:id/role.
func (h *Handlers) StaffRole(c *gin.Context) {
	t := tenantOf(c)
	id, ok := h.memberID(c)
	if !ok {
		return
	}
	role, err := access.ParseRole(c.PostForm("role"))
	if err == nil {
		err = h.d.Staff.SetRole(c.Request.Context(), actor(c), t.ID, id, role)
	}
	switch {
	case err == nil:
		h.done(c, "Role changed.", "/t/"+t.Slug+"/staff")
	case errors.Is(err, access.ErrLastOwner):
		h.renderStaff(c, http.StatusConflict, t, inviteForm{}, nil, access.ErrLastOwner.Message)
	case apperr.Is(err, apperr.Invalid):
		e, _ := apperr.As(err)
		h.renderStaff(c, http.StatusUnprocessableEntity, t, inviteForm{}, nil, "Role "+e.Message)
	default:
		h.d.Render.Error(c, err)
	}
}

// StaffRemove is POST /t/:slug/staff/:id/remove, after confirming. The
// account stays (it may belong to other tenants); its role here goes.
func (h *Handlers) StaffRemove(c *gin.Context) {
	t := tenantOf(c)
	id, ok := h.memberID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	m, err := h.d.Staff.Member(ctx, t.ID, id)
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	if !confirmed(c) {
		h.askConfirm(c, "Remove "+m.Email+"?", m.Email+" loses access to "+t.Name+" in the console at once.",
			"Remove from "+t.Name, "/t/"+t.Slug+"/staff")
		return
	}
	err = h.d.Staff.Remove(ctx, actor(c), t.ID, id)
	switch {
	case err == nil:
		to := "/t/" + t.Slug + "/staff"
		if id == viewerOf(c).staff.ID {
			to = "/"
		}
		h.done(c, m.Email+" was removed from "+t.Name+".", to)
	case errors.Is(err, access.ErrLastOwner):
		h.renderStaff(c, http.StatusConflict, t, inviteForm{}, nil, access.ErrLastOwner.Message)
	default:
		h.d.Render.Error(c, err)
	}
}

// StaffInviteRevoke is POST /t/:slug/staff/invites/:id/revoke: the pending
// invitation of staff member :id to this tenant stops working. Revoking is
// idempotent: an invitation already accepted, revoked or expired, and any
// other tenant's, gets the same "no longer pending" answer as a random id,
// and changes nothing.
func (h *Handlers) StaffInviteRevoke(c *gin.Context) {
	t := tenantOf(c)
	to := "/t/" + t.Slug + "/staff"
	var err error = access.ErrNoInvite
	if id, perr := uuid.Parse(c.Param("id")); perr == nil {
		err = h.d.Staff.RevokeInvite(c.Request.Context(), actor(c), t.ID, id)
	}
	switch {
	case err == nil:
		h.done(c, "Invitation revoked.", to)
	case errors.Is(err, access.ErrNoInvite):
		h.flash(c, components.AlertWarning, "That invitation was no longer pending.")
		seeOther(c, to)
	default:
		h.d.Render.Error(c, err)
	}
}
