// Package console holds the admin console's templ components and their view
// models. Handlers in app/console fill these structs from domain values; no
// store, gorm or secret type reaches a template, and a client secret cannot
// be shown because no view model has a field for it.
//
// Every page renders in two sizes: the full document (Chrome plus content)
// for a plain request, and the content fragment alone for an htmx request,
// so each page works with JavaScript off.
package console

import (
	"gatehouse/views/components"
	"gatehouse/views/layout"
)

// Chrome is the frame around every signed-in page: who is signed in, the
// tenant being worked on, the sections they may open, where they are, and
// a one-time message from the last action.
type Chrome struct {
	Page          layout.Page
	StaffEmail    string
	PlatformAdmin bool
	Tenant        *TenantRef // the tenant of a /t/:slug page; nil elsewhere
	Switch        SwitchList // the header's tenant switcher
	Nav           []NavItem  // the sections of Tenant this person may open
	PlatformNav   []NavItem  // platform sections, for platform admins
	Crumbs        []Crumb    // breadcrumbs; the last is the current page
	Flash         Flash
}

// TenantRef names a tenant in links and the switcher.
type TenantRef struct {
	Slug      string
	Name      string
	Role      string // the viewer's role label
	Suspended bool
	Current   bool
}

// Href is the tenant's console home.
func (t TenantRef) Href() string { return "/t/" + t.Slug }

// NavItem is one link of a navigation list.
type NavItem struct {
	Label  string
	Href   string
	Active bool
	Hint   string // a sentence for the overview page
}

// Crumb is one step of the breadcrumbs; an empty Href is the current page.
type Crumb struct {
	Label string
	Href  string
}

// Flash is a message carried over one redirect.
type Flash struct {
	Kind    components.AlertKind
	Message string
}

// Option is one choice of a select or radio group.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// Errors maps a form field's name to what is wrong with it.
type Errors map[string]string

// Get returns the error of field, or "".
func (e Errors) Get(field string) string { return e[field] }

// Hidden is a hidden form input, carried through a confirmation page.
type Hidden struct {
	Name  string
	Value string
}

// LoginPage is GET /login.
type LoginPage struct {
	Page     layout.Page
	Email    string
	ReturnTo string
	Error    string
	Notice   string
}

// InvitePage is where an invitee accepts: by choosing a password when
// they have no account yet, else signed in as themselves.
type InvitePage struct {
	Page       layout.Page
	Token      string
	Email      string
	TenantName string
	RoleLabel  string
	Error      string // a password problem
	Broken     bool   // the link is unknown, spent, revoked or expired
	// Step is what the invitee does next: InviteSetPassword,
	// InviteSignIn, InviteAccept or InviteOther.
	Step       string
	LoginURL   string // sign in and come back here (InviteSignIn)
	SignedInAs string // who is signed in instead (InviteOther)
}

// The steps of an InvitePage.
const (
	InviteSetPassword = "password" // no account yet: choose a password
	InviteSignIn      = "signin"   // an account, not signed in: sign in first
	InviteAccept      = "accept"   // signed in as the invitee: accept
	InviteOther       = "other"    // signed in as someone else
)

// HomePage is the console's start page: the tenants this person works in,
// found by an optional search when there are many.
type HomePage struct {
	Chrome  Chrome
	Tenants SwitchList
}

// ConfirmPage asks before a destructive action. Its form posts the same
// fields again with confirm=yes, so it works without JavaScript.
type ConfirmPage struct {
	Chrome  Chrome
	Title   string
	Message string
	Action  string
	Fields  []Hidden
	Button  string
	Cancel  string
}

// MessagePage is a page that only says something: "your role does not
// allow this", with the way back.
type MessagePage struct {
	Chrome  Chrome
	Title   string
	Message string
	Back    string
}
