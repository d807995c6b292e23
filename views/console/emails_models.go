package console

// EmailsPage lists the mails a tenant sends its customers, each with the
// subject it goes out with and whether the tenant has worded it itself.
type EmailsPage struct {
	Chrome Chrome
	Slug   string
	Mails  []EmailRow
}

// EmailRow is one mail of EmailsPage.
type EmailRow struct {
	Label   string
	Href    string
	Subject string // as sent, placeholders filled in with the brand
	Custom  bool
}

// EmailEditPage edits one mail's subject and intro, with a preview of the
// mail as it would be sent, in HTML and plain text.
type EmailEditPage struct {
	Chrome         Chrome
	Label          string
	Action         string // POST target
	ResetAction    string // POST target of "reset to default"; "" when the mail is the default
	Subject        string // as typed
	Intro          string // as typed
	DefaultSubject string
	DefaultIntro   string
	Placeholders   []string
	MaxSubject     int
	MaxIntro       int
	Errors         Errors
	Preview        EmailPreview
	Previewing     bool // the preview shows unsaved text
}

// EmailPreview is a rendered mail: its subject, the URL of its HTML part
// (framed) and its text part.
type EmailPreview struct {
	Subject string
	HTMLURL string
	Text    string
}
