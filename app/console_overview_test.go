package app_test

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/app/audit"
	"gatehouse/tenants"
)

// TestConsoleOverview: the tenant overview shows known activity as charts
// and tables with the right numbers (real sign-ups, sign-ins and a failed
// sign-in through the hosted pages, plus audit events of earlier days),
// the sign-in methods and profile completion; another tenant's activity
// never shows; a tenant without any has an empty state.
func TestConsoleOverview(t *testing.T) {
	t.Parallel()
	b := newBrandEnv(t, "acme", "bravo", "cedar")
	b.withFields(t, "acme",
		tenants.Field{Key: "company", Label: "Company", Type: tenants.TypeText, Capture: tenants.CaptureOptional},
		tenants.Field{Key: "city", Label: "Home city", Type: tenants.TypeText, Capture: tenants.CaptureLater})
	mustStaff(t, b.env, "owner@acme.test", "owner", "acme")
	mustStaff(t, b.env, "owner@cedar.test", "owner", "cedar")
	host := "acme.localhost"
	wantRedirect(t, signup(b.srv.Visitor(t), host, "ann@example.com", "ann's passphrase", map[string][]string{"company": {"Ann & Co"}}), "/account")
	wantRedirect(t, signup(b.srv.Visitor(t), host, "bob@example.com", "bob's passphrase", nil), "/account")
	wantRedirect(t, login(b.srv.Visitor(t), host, "ann@example.com", "ann's passphrase"), "/account")
	if p := login(b.srv.Visitor(t), host, "ann@example.com", "not ann's passphrase"); p.StatusCode == 303 {
		t.Fatal("a wrong password signed in")
	}

	// Earlier days, as the audit log has them.
	ctx := context.Background()
	rec := audit.NewRecorder(b.env.DB().Gorm, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, time.UTC)
	tenantID := func(slug string) tenants.Tenant {
		tn, err := b.env.Tenants().BySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		return *tn
	}
	acme, bravo := tenantID("acme"), tenantID("bravo")
	event := func(tn tenants.Tenant, daysAgo, n int, action, method string) {
		for range n {
			e := audit.Event{TenantID: tn.ID, Actor: "anonymous", Action: action, At: today.AddDate(0, 0, -daysAgo)}
			if method != "" {
				e.Detail = map[string]any{"method": method}
			}
			if err := rec.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	event(acme, 3, 3, "customer.login", "password")
	event(acme, 3, 2, "customer.login", "google")
	event(acme, 5, 4, "customer.login.failed", "")
	event(bravo, 3, 40, "customer.login", "password")
	event(bravo, 0, 30, "customer.signup", "")

	owner := signedIn(t, b.srv, "owner@acme.test")
	r := owner.get("/t/acme")
	if r.StatusCode != 200 {
		t.Fatalf("overview: %d", r.StatusCode)
	}
	day := func(daysAgo int) string { return today.AddDate(0, 0, -daysAgo).Format(time.DateOnly) }
	for _, c := range []struct {
		chart     string
		daysAgo   int
		want      string
		summaryOf string // the chart's total
	}{
		{"chart-signups", 0, "2", "2"},
		{"chart-signups", 3, "0", "2"},
		{"chart-signins", 3, "5", "6"},
		{"chart-signins", 0, "1", "6"},
		{"chart-failed", 5, "4", "5"},
		{"chart-failed", 0, "1", "5"},
	} {
		fig := figure(t, r.Body, c.chart)
		cell := regexp.MustCompile(`data-day="` + day(c.daysAgo) + `"><th scope="row">[^<]+</th><td class="cx-num">([^<]+)</td>`).FindStringSubmatch(fig)
		if cell == nil || cell[1] != c.want {
			t.Errorf("%s on %s: %v, want %s", c.chart, day(c.daysAgo), cell, c.want)
		}
		if !strings.Contains(fig, `<span class="cx-chart-total">`+c.summaryOf+`</span>`) || !strings.Contains(fig, " "+c.summaryOf+" in all") {
			t.Errorf("%s does not total %s:\n%s", c.chart, c.summaryOf, fig)
		}
		if !strings.Contains(fig, `<svg viewBox="0 0 400 180" role="img" aria-labelledby="`+c.chart+`-title `+c.chart+`-desc"`) {
			t.Errorf("%s has no labelled SVG:\n%.500s", c.chart, fig)
		}
		if got := strings.Count(fig, `<rect class="cx-chart-bar"`); got != 30 {
			t.Errorf("%s draws %d bars, want 30", c.chart, got)
		}
	}
	// The tallest bar reaches the top of the plot; bar heights follow.
	signins := figure(t, r.Body, "chart-signins")
	if !strings.Contains(signins, `<title>`+today.AddDate(0, 0, -3).Format("2 Jan")+`: 5</title>`) {
		t.Errorf("no tooltip for the busiest day:\n%s", signins)
	}
	for _, want := range []string{
		`data-testid="kpi-customers">2<`, `data-testid="kpi-signups">2<`, `data-testid="kpi-signins">6<`, `data-testid="kpi-failed">5<`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("no %s", want)
		}
	}
	methods := figure(t, r.Body, "chart-methods")
	for _, row := range []string{`Password <svg[^%]*?<td class="cx-num">4</td><td class="cx-num">67%</td>`, `Google <svg[^%]*?<td class="cx-num">2</td><td class="cx-num">33%</td>`} {
		if !regexp.MustCompile(row).MatchString(methods) {
			t.Errorf("methods lack %s:\n%s", row, methods)
		}
	}
	if strings.Index(methods, "Password") > strings.Index(methods, "Google") {
		t.Error("methods are not ordered by use")
	}
	fields := figure(t, r.Body, "chart-fields")
	if !regexp.MustCompile(`Company[^%]*?<td class="cx-num">1</td><td class="cx-num">50%</td>`).MatchString(fields) ||
		!regexp.MustCompile(`Home city[^%]*?<td class="cx-num">0</td><td class="cx-num">0%</td>`).MatchString(fields) {
		t.Errorf("profile completion:\n%s", fields)
	}
	if strings.Contains(r.Body, ">40<") || strings.Contains(r.Body, ">30<") || strings.Contains(r.Body, ">32<") {
		t.Error("bravo's activity shows on acme's overview")
	}

	t.Run("empty tenant", func(t *testing.T) {
		r := signedIn(t, b.srv, "owner@cedar.test").get("/t/cedar")
		if r.StatusCode != 200 || !strings.Contains(r.Body, "No activity yet.") || strings.Contains(r.Body, "<svg viewBox") {
			t.Fatalf("%d\n%s", r.StatusCode, r.Body)
		}
		if !strings.Contains(r.Body, `data-testid="kpi-customers">0<`) {
			t.Error("cedar's customers are not 0")
		}
	})
	t.Run("other tenant's staff", func(t *testing.T) {
		if r := signedIn(t, b.srv, "owner@cedar.test").get("/t/acme"); r.StatusCode != 404 {
			t.Fatalf("cedar's owner opens acme's overview: %d", r.StatusCode)
		}
	})
}

// figure is the <figure> of a chart, by its test id.
func figure(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `<figure class="cx-chart`)
	for i >= 0 {
		end := strings.Index(body[i:], "</figure>")
		if end < 0 {
			break
		}
		if f := body[i : i+end]; strings.Contains(f[:min(len(f), 120)], `data-testid="`+id+`"`) {
			return f
		}
		next := strings.Index(body[i+end:], `<figure class="cx-chart`)
		if next < 0 {
			break
		}
		i += end + next
	}
	t.Fatalf("no chart %s on the page", id)
	return ""
}
