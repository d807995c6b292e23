package console

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"gatehouse/app/access"
	"gatehouse/app/audit"
	"gatehouse/app/logos"
	"gatehouse/app/socialapps"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// changes makes the console's changes through the domain services and
// records each in the audit trail: who, what, and the value before and
// after. Handlers call one of these per request.
type changes struct {
	tenants *tenants.Service
	audit   *audit.Recorder
	logos   *logos.Store
	social  *socialapps.Store
	domains DomainVerifier
}

func (ch changes) record(ctx context.Context, a access.Actor, tenantID uuid.UUID, action, target string, detail map[string]any) {
	_ = ch.audit.Record(ctx, audit.Event{TenantID: tenantID, Actor: a.Name(), Action: action, Target: target, IP: a.IP, Detail: detail})
}

func (ch changes) createTenant(ctx context.Context, a access.Actor, slug, name string) (*tenants.Tenant, error) {
	t, err := ch.tenants.Create(ctx, tenants.NewTenant{Slug: slug, Name: name})
	if err != nil {
		return nil, err
	}
	ch.record(ctx, a, t.ID, "tenant.created", t.Slug, map[string]any{"after": map[string]any{"slug": t.Slug, "name": t.Name}})
	return t, nil
}

func (ch changes) setStatus(ctx context.Context, a access.Actor, t *tenants.Tenant, status tenants.Status) error {
	if t.Status == status {
		return nil
	}
	if err := ch.tenants.SetStatus(ctx, t.ID, status); err != nil {
		return err
	}
	action := "tenant.resumed"
	if status == tenants.Suspended {
		action = "tenant.suspended"
	}
	ch.record(ctx, a, t.ID, action, t.Slug, map[string]any{"before": string(t.Status), "after": string(status)})
	return nil
}

func (ch changes) addDomain(ctx context.Context, a access.Actor, t *tenants.Tenant, domain string) (string, error) {
	if err := ch.tenants.AddDomain(ctx, t.ID, domain, false); err != nil {
		return "", err
	}
	host := tenants.NormalizeHost(domain)
	ch.record(ctx, a, t.ID, "domain.added", host, map[string]any{"after": map[string]any{"hostname": host, "verified": false}})
	return host, nil
}

// domainOf returns t's domain host, or NotFound: a platform admin acting on
// one tenant's page cannot touch another's domain.
func domainOf(t *tenants.Tenant, raw string) (tenants.Domain, error) {
	host := tenants.NormalizeHost(raw)
	i := slices.IndexFunc(t.Domains, func(d tenants.Domain) bool { return d.Hostname == host })
	if host == "" || i < 0 {
		return tenants.Domain{}, &apperr.Error{Code: apperr.NotFound, Field: "domain", Message: "this is not a domain of this tenant"}
	}
	return t.Domains[i], nil
}

// verifyDomain marks a domain verified: after a DNS check (method "dns")
// or on a platform admin's word (method "manual"). tenants.Service has no
// "verify" of its own, so the domain is re-added as verified; it did not
// serve while unverified, so nobody sees the gap.
func (ch changes) verifyDomain(ctx context.Context, a access.Actor, t *tenants.Tenant, raw, method string) error {
	d, err := domainOf(t, raw)
	if err != nil {
		return err
	}
	if d.Verified {
		return nil
	}
	if method == "dns" {
		if err := ch.domains.Check(ctx, t.ID, d.Hostname); err != nil {
			return err
		}
	}
	if err := ch.tenants.RemoveDomain(ctx, t.ID, d.Hostname); err != nil {
		return err
	}
	if err := ch.tenants.AddDomain(ctx, t.ID, d.Hostname, true); err != nil {
		// Put it back as it was, so the tenant does not lose the domain.
		_ = ch.tenants.AddDomain(ctx, t.ID, d.Hostname, false)
		return err
	}
	ch.record(ctx, a, t.ID, "domain.verified", d.Hostname, map[string]any{"method": method, "before": map[string]any{"verified": false}, "after": map[string]any{"verified": true}})
	return nil
}

func (ch changes) removeDomain(ctx context.Context, a access.Actor, t *tenants.Tenant, raw string) error {
	d, err := domainOf(t, raw)
	if err != nil {
		return err
	}
	if err := ch.tenants.RemoveDomain(ctx, t.ID, d.Hostname); err != nil {
		return err
	}
	ch.record(ctx, a, t.ID, "domain.removed", d.Hostname, map[string]any{"before": map[string]any{"hostname": d.Hostname, "verified": d.Verified}})
	return nil
}

func (ch changes) saveTheme(ctx context.Context, a access.Actor, t *tenants.Tenant, theme tenants.Theme) (*tenants.Tenant, error) {
	after, err := ch.tenants.UpdateTheme(ctx, t.ID, theme)
	if err != nil {
		return nil, err
	}
	before, changed := themeDiff(t.Theme, after.Theme)
	if len(changed) > 0 {
		ch.record(ctx, a, t.ID, "theme.updated", t.Slug, map[string]any{"before": before, "after": changed})
	}
	return after, nil
}

// saveSettings saves a tenant's customer policies and records the ones
// that changed, as they were and as they are.
func (ch changes) saveSettings(ctx context.Context, a access.Actor, t *tenants.Tenant, s tenants.Settings) error {
	after, err := ch.tenants.UpdateSettings(ctx, t.ID, s)
	if err != nil {
		return err
	}
	before, changed := settingsDiff(t.Settings, after.Settings)
	if len(changed) > 0 {
		ch.record(ctx, a, t.ID, "settings.updated", t.Slug, map[string]any{"before": before, "after": changed})
	}
	return nil
}

// settingsDiff returns the settings that differ, as they were and as they are.
func settingsDiff(a, b tenants.Settings) (before, after map[string]any) {
	before, after = map[string]any{}, map[string]any{}
	pairs := []struct {
		k    string
		x, y any
	}{
		{"email_verification", a.EmailVerification, b.EmailVerification}, {"min_password_length", a.MinPasswordLength, b.MinPasswordLength},
		{"session_idle_minutes", a.SessionIdleMinutes, b.SessionIdleMinutes}, {"session_max_hours", a.SessionMaxHours, b.SessionMaxHours},
		{"profile_prompt_days", a.ProfilePromptDays, b.ProfilePromptDays}, {"brand_login_only", a.BrandLoginOnly, b.BrandLoginOnly},
	}
	for _, p := range pairs {
		if p.x != p.y {
			before[p.k], after[p.k] = p.x, p.y
		}
	}
	return before, after
}

// themeDiff returns the fields that differ, as they were and as they are.
func themeDiff(a, b tenants.Theme) (before, after map[string]any) {
	before, after = map[string]any{}, map[string]any{}
	pairs := []struct {
		k    string
		x, y any
	}{
		{"primary_color", a.PrimaryColor, b.PrimaryColor}, {"accent_color", a.AccentColor, b.AccentColor},
		{"background_color", a.BackgroundColor, b.BackgroundColor}, {"text_color", a.TextColor, b.TextColor},
		{"button_text_color", a.ButtonTextColor, b.ButtonTextColor}, {"font", a.Font, b.Font},
		{"radius", a.Radius, b.Radius}, {"display_name", a.DisplayName, b.DisplayName},
		{"headline", a.Headline, b.Headline}, {"signup_copy", a.SignupCopy, b.SignupCopy},
	}
	for _, p := range pairs {
		if p.x != p.y {
			before[p.k], after[p.k] = p.x, p.y
		}
	}
	return before, after
}

func (ch changes) putLogo(ctx context.Context, a access.Actor, t *tenants.Tenant, data []byte) error {
	old, _ := ch.logos.Get(ctx, t.ID)
	l, err := ch.logos.Put(ctx, t.ID, data)
	if err != nil {
		return err
	}
	detail := map[string]any{"after": map[string]any{"sha256": l.SHA256, "type": l.ContentType, "bytes": len(l.Data)}}
	if old.SHA256 != "" {
		detail["before"] = map[string]any{"sha256": old.SHA256, "type": old.ContentType, "bytes": len(old.Data)}
	}
	ch.record(ctx, a, t.ID, "theme.logo.updated", t.Slug, detail)
	return ch.tenants.Touch(ctx, t.ID)
}

func (ch changes) removeLogo(ctx context.Context, a access.Actor, t *tenants.Tenant) error {
	old, err := ch.logos.Get(ctx, t.ID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := ch.logos.Delete(ctx, t.ID); err != nil {
		return err
	}
	ch.record(ctx, a, t.ID, "theme.logo.removed", t.Slug, map[string]any{"before": map[string]any{"sha256": old.SHA256, "type": old.ContentType}})
	return ch.tenants.Touch(ctx, t.ID)
}

// saveFields stores a tenant's whole field list (tenants.Service checks the
// schema) and records the change to one field: its definition before and
// after, or for a move the new order.
func (ch changes) saveFields(ctx context.Context, a access.Actor, t *tenants.Tenant, fields []tenants.Field, action, key string, before *tenants.Field, after any) (*tenants.Tenant, error) {
	saved, err := ch.tenants.SaveFields(ctx, t.ID, fields)
	if err != nil {
		return nil, err
	}
	detail := map[string]any{}
	if before != nil {
		detail["before"] = *before
	}
	if after != nil {
		detail["after"] = after
	}
	if action == "field.moved" {
		order := make([]string, 0, len(fields))
		for _, f := range fields {
			order = append(order, f.Key)
		}
		detail["after"] = map[string]any{"order": order}
	}
	ch.record(ctx, a, t.ID, action, key, detail)
	return saved, nil
}

func (ch changes) saveSocial(ctx context.Context, a access.Actor, t *tenants.Tenant, kind socialapps.Kind, in socialapps.Input) error {
	before, after, err := ch.social.Save(ctx, t.ID, kind, in)
	if err != nil {
		return err
	}
	ch.record(ctx, a, t.ID, "social.updated", string(kind), map[string]any{
		"before": socialAudit(before), "after": socialAudit(after), "secret_replaced": in.ClientSecret != "",
	})
	return ch.tenants.Touch(ctx, t.ID)
}

// setBrandLoginOnly turns the tenant's "brand login only" mode on or off,
// audited with before and after.
func (ch changes) setBrandLoginOnly(ctx context.Context, a access.Actor, t *tenants.Tenant, on bool) error {
	settings := t.Settings
	before := settings.BrandLoginOnly
	settings.BrandLoginOnly = on
	if _, err := ch.tenants.UpdateSettings(ctx, t.ID, settings); err != nil {
		return err
	}
	ch.record(ctx, a, t.ID, "settings.updated", "brand_login_only", map[string]any{"before": before, "after": on})
	return nil
}

// saveMailText stores a tenant's wording of one mail (or, when both parts
// are empty, goes back to the default) and records before and after.
func (ch changes) saveMailText(ctx context.Context, a access.Actor, t *tenants.Tenant, kind tenants.MailKind, text tenants.MailText) error {
	before := t.MailTextOf(kind)
	after, err := ch.tenants.SaveMailText(ctx, t.ID, kind, text)
	if err != nil {
		return err
	}
	now := after.MailTextOf(kind)
	action := "mail_text.updated"
	if now == (tenants.MailText{}) {
		action = "mail_text.reset"
	}
	ch.record(ctx, a, t.ID, action, string(kind), map[string]any{
		"before": map[string]any{"subject": before.Subject, "intro": before.Intro},
		"after":  map[string]any{"subject": now.Subject, "intro": now.Intro},
	})
	return nil
}
