package console

// ThemePage is the theme editor: the form, the live preview and the logo.
type ThemePage struct {
	Chrome  Chrome
	Slug    string
	Form    ThemeForm
	Fonts   []Option
	Preview ThemePreview
	Logo    LogoView
	// Unsaved is true when the form shows values that are not saved yet
	// (a preview without JavaScript).
	Unsaved bool
}

// ThemeForm holds the editor's values as typed, and their errors.
type ThemeForm struct {
	PrimaryColor    string
	AccentColor     string
	BackgroundColor string
	TextColor       string
	ButtonTextColor string
	Font            string
	Radius          string
	DisplayName     string
	HeadlineText    string
	SignupCopy      string
	Errors          Errors
}

// ColourInput is one colour picker of the form.
type ColourInput struct {
	Name  string
	Label string
	Value string
	Error string
}

// Colours lists the form's colour pickers in display order.
func (f ThemeForm) Colours() []ColourInput {
	return []ColourInput{
		{"primary_color", "Primary (buttons, links)", f.PrimaryColor, f.Errors.Get("primary_color")},
		{"button_text_color", "Button text", f.ButtonTextColor, f.Errors.Get("button_text_color")},
		{"background_color", "Background", f.BackgroundColor, f.Errors.Get("background_color")},
		{"text_color", "Text", f.TextColor, f.Errors.Get("text_color")},
		{"accent_color", "Accent", f.AccentColor, f.Errors.Get("accent_color")},
	}
}

// ThemePreview is the preview panel: the hosted page in two frames, built
// from the form's values, and the contrast warnings for them.
type ThemePreview struct {
	DesktopURL string
	PhoneURL   string
	Warnings   []string
	Invalid    bool // some value is invalid; the frames show defaults for it
}

// LogoView is the logo part of the editor.
type LogoView struct {
	URL   string // the current logo on the console host; "" when none
	Error string
}
