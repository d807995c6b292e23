package tenants

import "gatehouse/apperr"

// Settings are a tenant's policies for its customers. Stored as JSON and
// merged over the defaults, so a setting added later has a sane value for
// tenants created before it.
type Settings struct {
	// EmailVerification is "optional" (log in at once, reminder banner) or
	// "required" (login refused until the address is verified).
	EmailVerification string `json:"email_verification"`
	// MinPasswordLength may be raised above the floor of 8; 15 is advised
	// for password-only tenants.
	MinPasswordLength int `json:"min_password_length"`
	// SessionIdleMinutes ends a customer session after this much inactivity.
	SessionIdleMinutes int `json:"session_idle_minutes"`
	// SessionMaxHours ends a customer session this long after login, however active.
	SessionMaxHours int `json:"session_max_hours"`
	// ProfilePromptDays is how often optional profile fields are asked for.
	ProfilePromptDays int `json:"profile_prompt_days"`
	// BrandLoginOnly hides the password forms: everyone signs in through
	// the brand's own OpenID Connect (or OAuth 2.0) system.
	BrandLoginOnly bool `json:"brand_login_only"`
}

// DefaultSettings are the policies of a new tenant.
func DefaultSettings() Settings {
	return Settings{
		EmailVerification:  "optional",
		MinPasswordLength:  8,
		SessionIdleMinutes: 7 * 24 * 60,
		SessionMaxHours:    30 * 24,
		ProfilePromptDays:  7,
	}
}

// Validate names the first setting out of range.
func (s Settings) Validate() error {
	switch {
	case s.EmailVerification != "optional" && s.EmailVerification != "required":
		return apperr.Field("email_verification", "must be optional or required")
	case s.MinPasswordLength < 8 || s.MinPasswordLength > 64:
		return apperr.Field("min_password_length", "must be between 8 and 64")
	case s.SessionIdleMinutes < 5 || s.SessionIdleMinutes > 90*24*60:
		return apperr.Field("session_idle_minutes", "must be between 5 minutes and 90 days")
	case s.SessionMaxHours < 1 || s.SessionMaxHours > 365*24:
		return apperr.Field("session_max_hours", "must be between 1 hour and 365 days")
	case s.ProfilePromptDays < 1 || s.ProfilePromptDays > 365:
		return apperr.Field("profile_prompt_days", "must be between 1 and 365")
	}
	return nil
}

func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.EmailVerification == "" {
		s.EmailVerification = d.EmailVerification
	}
	if s.MinPasswordLength == 0 {
		s.MinPasswordLength = d.MinPasswordLength
	}
	if s.SessionIdleMinutes == 0 {
		s.SessionIdleMinutes = d.SessionIdleMinutes
	}
	if s.SessionMaxHours == 0 {
		s.SessionMaxHours = d.SessionMaxHours
	}
	if s.ProfilePromptDays == 0 {
		s.ProfilePromptDays = d.ProfilePromptDays
	}
	return s
}
