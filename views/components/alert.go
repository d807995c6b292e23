package components

// AlertKind picks an alert's colour and how assistive technology announces
// it.
type AlertKind string

// The alert kinds. Errors are announced at once (role="alert"); the others
// politely (role="status"), so a success message does not interrupt.
const (
	AlertInfo    AlertKind = "info"
	AlertSuccess AlertKind = "success"
	AlertWarning AlertKind = "warning"
	AlertError   AlertKind = "error"
)

// class returns the CSS class for the kind; an unknown kind renders as info
// rather than unstyled.
func (k AlertKind) class() string {
	switch k {
	case AlertSuccess, AlertWarning, AlertError:
		return "alert alert-" + string(k)
	default:
		return "alert alert-info"
	}
}

func (k AlertKind) role() string {
	if k == AlertError {
		return "alert"
	}
	return "status"
}
