package components

import (
	"strings"

	"github.com/a-h/templ"
)

// Input describes one labelled form control and its error, so every form
// gets the label, autocomplete and aria wiring right the same way.
type Input struct {
	// Name is the form field name, and the element id unless ID is set.
	Name string
	// ID overrides the element id when one page has two forms with the
	// same field names (log in and sign up both have "email").
	ID string
	// Label is the visible label text.
	Label string
	// Type is the input type; empty means "text".
	Type string
	// Value is the value to show again after a failed submit. It is never
	// rendered for Type "password": a password is not echoed into HTML.
	Value string
	// Autocomplete is the autocomplete token ("email", "current-password",
	// "new-password", "given-name"…), which password managers rely on.
	Autocomplete string
	// InputMode hints the on-screen keyboard ("email", "numeric").
	InputMode string
	// Hint is help text shown under the label, tied by aria-describedby.
	Hint string
	// Error is the message for this field, shown under it; a non-empty
	// Error also marks the control aria-invalid.
	Error string
	// Required adds the required attribute.
	Required bool
	// MarkOptional appends "(optional)" to the label of a field that is not
	// required, for forms where most fields are required.
	MarkOptional bool
	// MinLength and MaxLength become minlength and maxlength when positive.
	MinLength, MaxLength int
	// Attrs are extra attributes for the control, such as hx-* attributes.
	Attrs templ.Attributes
}

func (in Input) id() string {
	if in.ID != "" {
		return in.ID
	}
	return in.Name
}

func (in Input) inputType() string {
	if in.Type == "" {
		return "text"
	}
	return in.Type
}

func (in Input) value() string {
	if in.inputType() == "password" {
		return ""
	}
	return in.Value
}

func (in Input) hintID() string  { return in.id() + "-hint" }
func (in Input) errorID() string { return in.id() + "-error" }

// describedBy lists the hint and error ids, so a screen reader reads them
// with the control.
func (in Input) describedBy() string {
	var ids []string
	if in.Hint != "" {
		ids = append(ids, in.hintID())
	}
	if in.Error != "" {
		ids = append(ids, in.errorID())
	}
	return strings.Join(ids, " ")
}

func (in Input) fieldClass() string {
	if in.Error != "" {
		return "field has-error"
	}
	return "field"
}
