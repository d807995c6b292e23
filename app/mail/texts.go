package mail

import (
	"context"
	"strings"

	"github.com/a-h/templ"

	"gatehouse/jobs"
	"gatehouse/tenants"
	"gatehouse/views/email"
)

// Default wording of the mails a tenant may word itself, with the same
// placeholders a tenant may use. The intros repeat what the templates in
// views/email say when given none, so the console can show them.
var (
	DefaultSubjects = map[tenants.MailKind]string{
		tenants.MailVerify:         "Confirm your email for {brand}",
		tenants.MailReset:          "Reset your {brand} password",
		tenants.MailSetPassword:    "Choose your {brand} password",
		tenants.MailCampaign:       "Choose your {brand} password",
		tenants.MailCampaignRemind: "Reminder: choose your {brand} password",
	}
	DefaultIntros = map[tenants.MailKind]string{
		tenants.MailVerify:         "Please confirm that this is your email address for your {brand} account.",
		tenants.MailReset:          "We received a request to reset the password of your {brand} account. Choose a new password with the button below.",
		tenants.MailSetPassword:    "We received a request to reset the password of your {brand} account. Your account does not have a password yet: choose one with the button below.",
		tenants.MailCampaign:       "{brand} has a new sign-in, and your account has moved to it. To sign in, choose a password with the button below.",
		tenants.MailCampaignRemind: "A few days ago we sent you a link to choose a password for your {brand} account. You have not used it yet, so here is a new one.",
	}
	// KindLabels name the kinds for people.
	KindLabels = map[tenants.MailKind]string{
		tenants.MailVerify:         "Email confirmation",
		tenants.MailReset:          "Password reset",
		tenants.MailSetPassword:    "First password (forgot password without one)",
		tenants.MailCampaign:       "Import campaign: choose a password",
		tenants.MailCampaignRemind: "Import campaign: reminder",
	}
)

// Wording is one mail's subject and intro as it goes out: the tenant's own
// text or the default, placeholders filled in. Intro is nil for the
// default, which the template writes itself.
type Wording struct {
	Subject string
	Intro   []string
}

// WordingOf resolves kind's wording for a mail from brand to the address to.
// custom is the tenant's own text (zero for the default).
func WordingOf(kind tenants.MailKind, custom tenants.MailText, brand email.Brand, to string) Wording {
	fill := strings.NewReplacer("{brand}", brand.Name, "{email}", to)
	subject := custom.Subject
	if subject == "" {
		subject = DefaultSubjects[kind]
	}
	w := Wording{Subject: strings.TrimSpace(fill.Replace(subject))}
	for _, line := range strings.Split(custom.Intro, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			w.Intro = append(w.Intro, fill.Replace(line))
		}
	}
	return w
}

// WordingFor resolves kind's wording for t's mail to the address to.
func WordingFor(t *tenants.Tenant, kind tenants.MailKind, brand email.Brand, to string) Wording {
	return WordingOf(kind, t.MailTextOf(kind), brand, to)
}

// Sample is what a preview shows in place of a real link and lifetime.
const (
	SampleTo      = "jane.doe@example.com"
	sampleMinutes = 30
	sampleDays    = 7
)

// Parts returns kind's HTML and text components, as the real mail renders
// them, with link and how long it lasts (minutes for a reset, days for
// the set-password mails).
func Parts(kind tenants.MailKind, b email.Brand, intro []string, link string, minutes, days int) (templ.Component, templ.Component) {
	switch kind {
	case tenants.MailReset:
		return email.ResetHTML(b, intro, link, minutes), email.ResetText(b, intro, link, minutes)
	case tenants.MailSetPassword:
		return email.FirstPasswordHTML(b, intro, link, days), email.FirstPasswordText(b, intro, link, days)
	case tenants.MailCampaign:
		return email.CampaignHTML(b, intro, link, days), email.CampaignText(b, intro, link, days)
	case tenants.MailCampaignRemind:
		return email.CampaignReminderHTML(b, intro, link, days), email.CampaignReminderText(b, intro, link, days)
	default:
		return email.VerifyHTML(b, intro, link), email.VerifyText(b, intro, link)
	}
}

// Preview renders kind as it would go to SampleTo with custom as the
// tenant's text, with a sample link on the brand's site: the same
// templates and renderer as the real mail.
func Preview(ctx context.Context, kind tenants.MailKind, custom tenants.MailText, b email.Brand, from string) (jobs.SendMail, error) {
	w := WordingOf(kind, custom, b, SampleTo)
	site := strings.TrimSuffix(b.SiteURL, "/")
	path := map[tenants.MailKind]string{tenants.MailVerify: "/verify-email", tenants.MailReset: "/password/reset"}[kind]
	if path == "" {
		path = "/password/set"
	}
	h, t := Parts(kind, b, w.Intro, site+path+"?token=sample", sampleMinutes, sampleDays)
	return Render(ctx, Envelope{From: from, To: SampleTo, Subject: w.Subject}, h, t)
}
