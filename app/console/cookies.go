package console

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/views/components"
	views "gatehouse/views/console"
)

// cookieName adds the __Host- prefix on https: such a cookie is Secure,
// has Path=/ and no Domain, so no sibling host can plant or read it.
func (h *Handlers) cookieName(base string) string {
	if h.d.Secure {
		return "__Host-" + base
	}
	return base
}

func (h *Handlers) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: h.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.d.Secure, SameSite: http.SameSiteLaxMode,
	})
}

const (
	sessionCookie = "gh_console"
	flashCookie   = "gh_flash"
)

func (h *Handlers) sessionToken(c *gin.Context) string {
	v, err := c.Cookie(h.cookieName(sessionCookie))
	if err != nil {
		return ""
	}
	return v
}

func (h *Handlers) setSessionCookie(c *gin.Context, token string) {
	// No Max-Age: the cookie ends with the browser; the server ends the
	// session after idle time or its absolute lifetime anyway.
	h.setCookie(c, sessionCookie, token, 0)
}

func (h *Handlers) clearSessionCookie(c *gin.Context) { h.setCookie(c, sessionCookie, "", -1) }

// flash leaves a message for the next page this browser loads.
func (h *Handlers) flash(c *gin.Context, kind components.AlertKind, msg string) {
	h.setCookie(c, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(string(kind)+"|"+msg)), 60)
}

// takeFlash reads and clears the message left by the last action. The
// message is rendered as escaped text, and its kind is checked, so a
// planted cookie can at worst show odd words.
func (h *Handlers) takeFlash(c *gin.Context) views.Flash {
	raw, err := c.Cookie(h.cookieName(flashCookie))
	if err != nil || raw == "" {
		return views.Flash{}
	}
	h.setCookie(c, flashCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return views.Flash{}
	}
	kind, msg, ok := strings.Cut(string(b), "|")
	if !ok || len(msg) > 300 {
		return views.Flash{}
	}
	switch k := components.AlertKind(kind); k {
	case components.AlertSuccess, components.AlertInfo, components.AlertWarning, components.AlertError:
		return views.Flash{Kind: k, Message: msg}
	}
	return views.Flash{}
}
