package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/app/ratelimit"
	"gatehouse/views/components"
	views "gatehouse/views/console"
)

// pendingCookie carries a pending sign-in from the password to the code
// page: HttpOnly, for access.PendingSignInTTL.
const pendingCookie = "gh_console_2fa"

// codePerStaff throttles wrong codes per staff member as loginPerAccount
// throttles passwords: a few free tries, then doubling delays of at most
// five minutes. With three steps accepted, a guess at six digits wins
// three times in a million.
var codePerStaff = ratelimit.Backoff{Free: 5, Window: time.Hour, MaxDelay: 5 * time.Minute}

// codeThrottleKey counts a staff member's wrong codes, at sign-in and when
// turning two-factor off.
func codeThrottleKey(id uuid.UUID) string { return "console:totp:staff:" + id.String() }

// askCode keeps the pending sign-in in its cookie and sends the browser to
// the code page.
func (h *Handlers) askCode(c *gin.Context, token, returnTo string) {
	h.setCookie(c, pendingCookie, token, int(access.PendingSignInTTL/time.Second))
	to := "/login/totp"
	if returnTo != "" {
		to += "?return_to=" + url.QueryEscape(returnTo)
	}
	seeOther(c, to)
}

func (h *Handlers) pendingToken(c *gin.Context) string {
	v, err := c.Cookie(h.cookieName(pendingCookie))
	if err != nil {
		return ""
	}
	return v
}

func (h *Handlers) clearPending(c *gin.Context) { h.setCookie(c, pendingCookie, "", -1) }

func (h *Handlers) codePage(returnTo, errMsg string) views.TOTPLoginPage {
	return views.TOTPLoginPage{Page: h.page("Two-factor sign-in"), ReturnTo: returnTo, Error: errMsg}
}

// LoginCodeShow is GET /login/totp, the code page of a pending sign-in.
// Without one it sends the browser back to the password.
func (h *Handlers) LoginCodeShow(c *gin.Context) {
	if viewerOf(c) != nil {
		seeOther(c, "/")
		return
	}
	_, err := h.d.TwoFactor.PendingSignIn(c.Request.Context(), h.pendingToken(c))
	if errors.Is(err, access.ErrSignInExpired) {
		h.clearPending(c)
		seeOther(c, "/login")
		return
	}
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	h.d.Render.HTML(c, http.StatusOK, views.TOTPLogin(h.codePage(safeReturn(c.Query("return_to")), "")))
}

// LoginCodeSubmit is POST /login/totp: a TOTP code or a recovery code
// finishes the pending sign-in with a new session. Wrong codes are slowed
// down per staff member and per address; an expired sign-in starts again
// at the password.
func (h *Handlers) LoginCodeSubmit(c *gin.Context) {
	if viewerOf(c) != nil {
		seeOther(c, "/")
		return
	}
	ctx := c.Request.Context()
	returnTo := safeReturn(c.PostForm("return_to"))
	token := h.pendingToken(c)
	expired := func() {
		h.clearPending(c)
		h.d.Render.HTML(c, http.StatusUnauthorized, views.Login(views.LoginPage{Page: h.page("Sign in"), ReturnTo: returnTo, Error: access.ErrSignInExpired.Message}))
	}
	st, err := h.d.TwoFactor.PendingSignIn(ctx, token)
	if errors.Is(err, access.ErrSignInExpired) {
		expired()
		return
	}
	if err != nil {
		h.d.Render.Error(c, err)
		return
	}
	ip := c.ClientIP()
	staffKey := codeThrottleKey(st.ID)
	_, ipKey := loginForm{}.throttleKeys(ip)
	for _, key := range []string{ipKey, staffKey} {
		if err := h.d.Limiter.Blocked(ctx, key); err != nil {
			var tm *ratelimit.TooMany
			if errors.As(err, &tm) {
				c.Header("Retry-After", strconv.Itoa(tm.RetryAfterSeconds()))
				h.d.Render.HTML(c, http.StatusTooManyRequests, views.TOTPLogin(h.codePage(returnTo, "Too many attempts. Please wait a moment and try again.")))
				return
			}
			h.d.Render.Error(c, err)
			return
		}
	}
	done, err := h.d.TwoFactor.FinishSignIn(ctx, token, c.PostForm("code"), ip)
	switch {
	case errors.Is(err, access.ErrWrongCode):
		_ = h.d.Limiter.Fail(ctx, ipKey, loginPerIP)
		_ = h.d.Limiter.Fail(ctx, staffKey, codePerStaff)
		h.d.Log.Info("authentication_failed", "area", "console", "factor", "totp", "client_ip", ip)
		h.d.Render.HTML(c, http.StatusUnauthorized, views.TOTPLogin(h.codePage(returnTo, access.ErrWrongCode.Message)))
		return
	case errors.Is(err, access.ErrSignInExpired):
		expired()
		return
	case err != nil:
		h.d.Render.Error(c, err)
		return
	}
	_ = h.d.Limiter.Reset(ctx, staffKey)
	h.clearPending(c)
	if done.UsedRecoveryCode {
		h.flash(c, components.AlertWarning, recoveryWarning(done.RecoveryCodesLeft))
	}
	h.signIn(c, done.Staff, returnTo)
}

// recoveryWarning tells someone who signed in with a recovery code what
// they have left.
func recoveryWarning(left int) string {
	n := "none are"
	switch {
	case left == 1:
		n = "1 is"
	case left > 1:
		n = strconv.Itoa(left) + " are"
	}
	return fmt.Sprintf("You signed in with a recovery code, and %s left. If you lost your phone, set two-factor sign-in up again on the Security page.", n)
}
