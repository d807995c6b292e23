package tenants

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/apperr"
)

// MailKind names one mail a tenant sends to its customers whose subject
// and intro the tenant may write itself.
type MailKind string

// The mails a tenant may word itself. Staff invitations and operator
// notices are platform mail, not the brand's, and are not among them; nor
// are the security notices (password changed, failed sign-ins, an existing
// account at sign-up), whose wording carries facts a brand must not drop.
const (
	MailVerify          MailKind = "verify"            // confirm your email address
	MailReset           MailKind = "reset"             // reset your password
	MailSetPassword     MailKind = "set_password"      // "forgot password" of an account without one: choose a first one
	MailCampaign        MailKind = "campaign"          // an import campaign's "choose your password"
	MailCampaignRemind  MailKind = "campaign_reminder" // the campaign's reminder
	MailPasswordChanged MailKind = "password_changed"  // your password was changed
)

// MailKinds lists the kinds in the order the console shows them.
var MailKinds = []MailKind{MailVerify, MailReset, MailSetPassword, MailCampaign, MailCampaignRemind}

// Valid reports whether k is one of MailKinds.
func (k MailKind) Valid() bool {
	for _, m := range MailKinds {
		if m == k {
			return true
		}
	}
	return false
}

// MailText is a tenant's wording of one mail. An empty Subject or Intro
// keeps the default. Both are plain text: mail templates escape them, and
// Validate refuses anything that looks like markup, so a brand's text can
// never add a link or a tag to a mail.
type MailText struct {
	Subject string
	Intro   string
}

// Limits of a mail's own text.
const (
	MaxMailSubject = 150
	MaxMailIntro   = 1000
)

// MailPlaceholders are what a subject or intro may contain in braces; the
// mail fills them in when it is sent.
var MailPlaceholders = []string{"{brand}", "{email}"}

var (
	placeholder = regexp.MustCompile(`\{[^{}]*\}`)
	markup      = regexp.MustCompile(`<\s*/?\s*[A-Za-z!?]|&[A-Za-z#][A-Za-z0-9]*;`)
)

// Normalize trims t and checks it, naming the field ("subject", "intro")
// of the first problem.
func (t MailText) Normalize() (MailText, error) {
	t.Subject = strings.TrimSpace(t.Subject)
	t.Intro = strings.TrimSpace(strings.ReplaceAll(t.Intro, "\r\n", "\n"))
	if strings.ContainsAny(t.Subject, "\r\n") {
		return t, apperr.Field("subject", "must be one line")
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"subject", t.Subject, MaxMailSubject}, {"intro", t.Intro, MaxMailIntro}} {
		if err := checkMailText(f.value, f.max); err != nil {
			return t, apperr.Field(f.field, "%v", err)
		}
	}
	return t, nil
}

func checkMailText(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return apperr.New(apperr.Invalid, "is %d characters long; at most %d are allowed", n, max)
	}
	for _, r := range s {
		if r != '\n' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') {
			return errors.New("contains a control character")
		}
	}
	if markup.MatchString(s) {
		return errors.New("must be plain text: HTML tags and entities are not allowed")
	}
	for _, p := range placeholder.FindAllString(s, -1) {
		known := false
		for _, k := range MailPlaceholders {
			known = known || p == k
		}
		if !known {
			return apperr.New(apperr.Invalid, "%s is not a placeholder: use %s", p, strings.Join(MailPlaceholders, " or "))
		}
	}
	if strings.ContainsAny(placeholder.ReplaceAllString(s, ""), "{}") {
		return errors.New("has a { or } that does not close a placeholder")
	}
	return nil
}

type mailTextRow struct {
	ID        uuid.UUID
	TenantID  uuid.UUID
	Kind      string
	Subject   string
	Intro     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (mailTextRow) TableName() string { return "tenant_mail_texts" }

func (s *Store) mailTexts(ctx context.Context, tenantID uuid.UUID) (map[MailKind]MailText, error) {
	var rows []mailTextRow
	if err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "list mail texts")
	}
	return mailTextsFromRows(rows), nil
}

func mailTextsFromRows(rows []mailTextRow) map[MailKind]MailText {
	if len(rows) == 0 {
		return nil
	}
	out := make(map[MailKind]MailText, len(rows))
	for _, r := range rows {
		out[MailKind(r.Kind)] = MailText{Subject: r.Subject, Intro: r.Intro}
	}
	return out
}

// putMailText writes (or, for an empty text, deletes) one kind's text and
// touches the tenant, in one transaction.
func (s *Store) putMailText(ctx context.Context, tenantID uuid.UUID, kind MailKind, t MailText) error {
	now := time.Now().UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("tenant_id = ? AND kind = ?", tenantID, string(kind)).Delete(&mailTextRow{}).Error; err != nil {
			return apperr.Wrap(err, "clear mail text")
		}
		if t != (MailText{}) {
			row := mailTextRow{ID: uuid.Must(uuid.NewV7()), TenantID: tenantID, Kind: string(kind), Subject: t.Subject, Intro: t.Intro, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&row).Error; err != nil {
				return apperr.Wrap(err, "save mail text")
			}
		}
		return touch(tx, tenantID)
	})
}

// SaveMailText validates and stores a tenant's wording of one mail; an
// empty subject or intro keeps that part's default, and both empty is the
// default mail. Every node sends the new text at once.
func (s *Service) SaveMailText(ctx context.Context, tenantID uuid.UUID, kind MailKind, t MailText) (*Tenant, error) {
	if tenantID == uuid.Nil {
		return nil, apperr.New(apperr.Invalid, "no tenant")
	}
	if !kind.Valid() {
		return nil, apperr.New(apperr.NotFound, "no such mail")
	}
	t, err := t.Normalize()
	if err != nil {
		return nil, err
	}
	if err := s.store.putMailText(ctx, tenantID, kind, t); err != nil {
		return nil, err
	}
	s.announce(ctx, tenantID)
	return s.store.ByID(ctx, tenantID)
}

// MailTextOf returns t's own wording of kind (zero when it uses the
// default).
func (t *Tenant) MailTextOf(kind MailKind) MailText { return t.Mails[kind] }
