package console

// SettingsPage edits a tenant's customer policies.
type SettingsPage struct {
	Chrome Chrome
	Slug   string
	Form   SettingsForm
}

// SettingsForm holds the policies as typed, so a rejected form comes back
// with what was entered.
type SettingsForm struct {
	EmailVerification  string // "optional" or "required"
	MinPasswordLength  string
	SessionIdleMinutes string
	SessionMaxHours    string
	ProfilePromptDays  string
	Errors             Errors
}
