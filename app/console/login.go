package console

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/app/ratelimit"
	"gatehouse/app/sessions"
	"gatehouse/apperr"
	views "gatehouse/views/console"
)

// Throttles of console sign-in: per account, a few free tries and then
// doubling delays of at most five minutes, so a stranger can slow an
// account down but not lock it out; per address, more room for offices
// behind one NAT.
var (
	loginPerAccount = ratelimit.Backoff{Free: 5, Window: time.Hour, MaxDelay: 5 * time.Minute}
	loginPerIP      = ratelimit.Backoff{Free: 30, Window: time.Hour, MaxDelay: 5 * time.Minute}
)

// LoginShow is GET /login.
func (h *Handlers) LoginShow(c *gin.Context) {
	if viewerOf(c) != nil {
		seeOther(c, "/")
		return
	}
	v := views.LoginPage{Page: h.page("Sign in"), ReturnTo: safeReturn(c.Query("return_to"))}
	if c.Query("signed_out") == "1" {
		v.Notice = "You have signed out."
	}
	if c.Query("welcome") == "1" {
		v.Notice = "Your password is set. Sign in to continue."
	}
	if c.Query("reset") == "1" {
		v.Notice = "Your password is changed and every session of your account is signed out. Sign in with the new password."
	}
	h.d.Render.HTML(c, http.StatusOK, views.Login(v))
}

// loginForm is what POST /login takes.
type loginForm struct {
	Email    string
	Password string
	ReturnTo string
}

func bindLogin(c *gin.Context) loginForm {
	return loginForm{Email: c.PostForm("email"), Password: c.PostForm("password"), ReturnTo: safeReturn(c.PostForm("return_to"))}
}

// throttleKeys are the rate-limit keys of a sign-in attempt. The address
// is hashed so that whatever is typed, the key stays short.
func (f loginForm) throttleKeys(ip string) (account, addr string) {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(f.Email))))
	return "console:login:account:" + hex.EncodeToString(sum[:12]), "console:login:ip:" + ip
}

// LoginSubmit is POST /login: a wrong password and an unknown email get
// the same answer in the same time; repeated failures are slowed down.
// Staff with two-factor sign-in on go on to the code page (totp_login.go).
func (h *Handlers) LoginSubmit(c *gin.Context) {
	ctx := c.Request.Context()
	f := bindLogin(c)
	ip := c.ClientIP()
	accountKey, ipKey := f.throttleKeys(ip)
	fail := func(status int, msg string) {
		h.d.Render.HTML(c, status, views.Login(views.LoginPage{Page: h.page("Sign in"), Email: f.Email, ReturnTo: f.ReturnTo, Error: msg}))
	}
	for _, key := range []string{ipKey, accountKey} {
		if err := h.d.Limiter.Blocked(ctx, key); err != nil {
			var tm *ratelimit.TooMany
			if errors.As(err, &tm) {
				c.Header("Retry-After", strconv.Itoa(int(tm.RetryAfter.Round(time.Second)/time.Second)))
				fail(http.StatusTooManyRequests, "Too many attempts. Please wait a moment and try again.")
				return
			}
			h.d.Render.Error(c, err)
			return
		}
	}
	step, err := h.d.TwoFactor.BeginSignIn(ctx, f.Email, f.Password, ip)
	if errors.Is(err, access.ErrBadCredentials) {
		_ = h.d.Limiter.Fail(ctx, ipKey, loginPerIP)
		_ = h.d.Limiter.Fail(ctx, accountKey, loginPerAccount)
		h.d.Log.Info("authentication_failed", "area", "console", "client_ip", ip)
		fail(http.StatusUnauthorized, access.ErrBadCredentials.Message)
		return
	}
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	_ = h.d.Limiter.Reset(ctx, accountKey)
	if step.Pending != "" {
		// Two-factor sign-in is on: no session until the code page.
		h.askCode(c, step.Pending, f.ReturnTo)
		return
	}
	h.signIn(c, step.Staff, f.ReturnTo)
}

// signIn starts a staff session and sends the browser on to returnTo.
func (h *Handlers) signIn(c *gin.Context, st access.Staff, returnTo string) {
	ctx := c.Request.Context()
	// A fresh session id at every sign-in; an old one this browser held is ended.
	if old := h.sessionToken(c); old != "" {
		_ = h.d.Sessions.Revoke(ctx, old)
	}
	token, _, err := h.d.Sessions.Create(ctx, sessions.New{
		Kind: sessions.Staff, TenantID: uuid.Nil, SubjectID: st.ID, Host: consoleHost(c),
		IP: c.ClientIP(), UserAgent: c.Request.UserAgent(), Idle: sessionIdle, Max: sessionMax,
	})
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.setSessionCookie(c, token)
	target := returnTo
	if target == "" {
		target = "/"
	}
	seeOther(c, target)
}

// Logout is POST /logout: the session ends on the server, not just in the
// browser.
func (h *Handlers) Logout(c *gin.Context) {
	if v := viewerOf(c); v != nil {
		if err := h.d.Sessions.Revoke(c.Request.Context(), v.token); err != nil {
			h.d.Render.Error(c, err)
			return
		}
	}
	h.clearSessionCookie(c)
	seeOther(c, "/login?signed_out=1")
}

// InviteShow is GET /invite?token=: the invitation's page. Someone
// without an account chooses a password; someone with one is asked to
// sign in as themselves (the link alone signs nobody in, so a password and
// second factor still stand between a mailbox and the console) and then
// accepts.
func (h *Handlers) InviteShow(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	token := c.Query("token")
	inv, err := h.d.Staff.InviteFor(c.Request.Context(), token)
	if errors.Is(err, access.ErrBadInvite) {
		h.inviteBroken(c)
		return
	}
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.renderInvite(c, http.StatusOK, inv, token, "")
}

// renderInvite shows a live invitation with the step its visitor is at.
func (h *Handlers) renderInvite(c *gin.Context, status int, inv access.InviteLink, token, errMsg string) {
	t, err := h.d.Tenants.ByID(c.Request.Context(), inv.TenantID)
	if err != nil {
		h.inviteBroken(c)
		return
	}
	v := views.InvitePage{Page: h.page("Accept invitation"), Token: token, Email: inv.Staff.Email, TenantName: t.Name,
		RoleLabel: inv.Role.Label(), Error: errMsg, Step: views.InviteSignIn, LoginURL: inviteLogin(token)}
	vw := viewerOf(c)
	switch {
	case inv.NeedsPassword:
		v.Step = views.InviteSetPassword
	case vw != nil && vw.staff.ID == inv.Staff.ID:
		v.Step = views.InviteAccept
	case vw != nil:
		v.Step, v.SignedInAs = views.InviteOther, vw.staff.Email
	}
	h.d.Render.HTML(c, status, views.Invite(v))
}

func (h *Handlers) inviteBroken(c *gin.Context) {
	h.d.Render.HTML(c, http.StatusNotFound, views.Invite(views.InvitePage{Page: h.page("Accept invitation"), Broken: true}))
}

// inviteLogin is the sign-in page that comes back to the invitation.
func inviteLogin(token string) string {
	return "/login?return_to=" + url.QueryEscape("/invite?token="+url.QueryEscape(token))
}

// InviteSubmit is POST /invite: a new invitee's password, or a signed-in
// invitee's acceptance. Either spends the link and grants the role in the
// invitation's own tenant; nothing in the form names a tenant.
func (h *Handlers) InviteSubmit(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	ctx := c.Request.Context()
	token := c.PostForm("token")
	inv, err := h.d.Staff.InviteFor(ctx, token)
	if errors.Is(err, access.ErrBadInvite) {
		h.inviteBroken(c)
		return
	}
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	if !inv.NeedsPassword {
		h.acceptSignedIn(c, inv, token)
		return
	}
	_, err = h.d.Staff.AcceptInvite(ctx, token, c.PostForm("password"))
	switch {
	case err == nil:
		seeOther(c, "/login?welcome=1")
	case errors.Is(err, access.ErrBadInvite):
		h.inviteBroken(c)
	case errors.Is(err, access.ErrSignInToAccept):
		// The invitee chose a password through another invitation meanwhile.
		seeOther(c, inviteLogin(token))
	case apperr.Is(err, apperr.Invalid):
		e, _ := apperr.As(err)
		h.renderInvite(c, http.StatusUnprocessableEntity, inv, token, "Password "+e.Message)
	default:
		h.d.Render.Error(c, err)
	}
}

// acceptSignedIn accepts an invitation to an existing account for the
// staff member signed in, who must be its invitee. The role is a privilege
// change, so the session id is replaced.
func (h *Handlers) acceptSignedIn(c *gin.Context, inv access.InviteLink, token string) {
	vw := viewerOf(c)
	if vw == nil {
		seeOther(c, inviteLogin(token))
		return
	}
	got, err := h.d.Staff.AcceptInviteAs(c.Request.Context(), token, vw.staff.ID)
	switch {
	case err == nil:
	case errors.Is(err, access.ErrBadInvite):
		h.inviteBroken(c)
		return
	case errors.Is(err, access.ErrNotInvitee):
		h.renderInvite(c, http.StatusForbidden, inv, token, "")
		return
	default:
		h.d.Render.Error(c, err)
		return
	}
	t, err := h.d.Tenants.ByID(c.Request.Context(), got.TenantID)
	to := "/"
	if err == nil {
		to = "/t/" + t.Slug
	}
	h.signIn(c, vw.staff, to)
}
