package console

import (
	"strconv"

	"gatehouse/app/accounts"
	"gatehouse/tenants"
	"gatehouse/views/hosted"
)

// signupPreview turns registration fields into the hosted sign-up form's
// inputs, as the customer would see them: the same mapping the hosted page
// uses.
func signupPreview(fields []tenants.Field) []hosted.FormField {
	return accounts.SignupPreview(fields)
}

func floatText(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}
