package web

import (
	"log/slog"
	"net/http"

	"gatehouse/views/hosted"
)

// CrossOriginRefused is the answer of http.CrossOriginProtection to a
// state-changing request from another site: a 403 with the neutral page
// saying what happened, instead of the library's bare text. It runs before
// any tenant is known, so the page names none. The refusal is logged with
// a stable key, since a burst of them is someone's forged form.
func (r *Renderer) CrossOriginRefused() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.log.LogAttrs(req.Context(), slog.LevelInfo, "cross_origin_refused",
			slog.String("method", req.Method),
			slog.String("host", req.Host),
			slog.String("path", req.URL.Path),
			slog.String("sec_fetch_site", req.Header.Get("Sec-Fetch-Site")),
		)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusForbidden)
		if err := hosted.CrossOrigin(r.neutral("Request refused")).Render(req.Context(), w); err != nil {
			r.log.Error("render_failed", "error", err)
		}
	})
}

// MalformedHost answers a request whose Host header is malformed, before
// any tenant is looked up: 400 with message, which must be safe to show, as
// plain text. A garbled Host is a client's or a scanner's mistake, so it
// gets no page.
func MalformedHost(w http.ResponseWriter, message string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte("Bad Request: " + message + "\n"))
}
