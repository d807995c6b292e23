package console

// FieldsPage is the registration fields editor.
type FieldsPage struct {
	Chrome     Chrome
	Slug       string
	Rows       []FieldRow
	Add        FieldForm
	PreviewURL string // the hosted sign-up form with the saved fields
	Error      string // a problem with a move or remove
}

// FieldRow is one field in the list.
type FieldRow struct {
	Key     string
	Label   string
	Type    string
	Capture string
	// Claim and ClaimScope are how apps receive the field; empty when
	// they do not.
	Claim      string
	ClaimScope string
	First      bool
	Last       bool
}

// FieldForm adds or edits one field. Key is locked once the field exists:
// customers' profiles are stored under it.
type FieldForm struct {
	Action    string
	KeyLocked bool
	Key       string
	Label     string
	Type      string
	Capture   string
	HelpText  string
	Options   string // one per line: "value | Label"
	MinLength string
	MaxLength string
	Pattern   string
	Min       string
	Max       string
	MinDate   string
	MaxDate   string
	Country   string
	// Claim and ClaimScope release the field to apps: the claim's name
	// and the scope an app asks for to receive it.
	Claim      string
	ClaimScope string
	Types      []Option
	Captures   []Option
	Errors     Errors
}

// FieldEditPage edits one field.
type FieldEditPage struct {
	Chrome Chrome
	Slug   string
	Form   FieldForm
}
