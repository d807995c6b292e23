package console

import (
	"strconv"

	"gatehouse/tenants"
	"gatehouse/views/hosted"
)

// signupPreview turns registration fields into the hosted sign-up form's
// inputs, as the customer would see them: required and optional fields,
// not "later" ones.
func signupPreview(fields []tenants.Field) []hosted.FormField {
	out := make([]hosted.FormField, 0, len(fields))
	for _, f := range fields {
		if f.Capture == tenants.CaptureLater {
			continue
		}
		ff := hosted.FormField{
			Key: f.Key, Label: f.Label, Type: string(f.Type), Help: f.HelpText,
			Required:  f.Capture == tenants.CaptureRequired,
			MinLength: f.Validation.MinLength, MaxLength: f.Validation.MaxLength,
			Min: f.Validation.MinDate, Max: f.Validation.MaxDate,
		}
		if f.Type == tenants.TypeNumber {
			ff.Min, ff.Max = floatText(f.Validation.Min), floatText(f.Validation.Max)
		}
		switch f.Type {
		case tenants.TypeSelect:
			for _, o := range f.Options {
				ff.Options = append(ff.Options, hosted.Option{Value: o.Value, Label: o.Label})
			}
		case tenants.TypeCountry:
			for _, c := range tenants.Countries() {
				ff.Options = append(ff.Options, hosted.Option{Value: c.Code, Label: c.Name})
			}
		}
		out = append(out, ff)
	}
	return out
}

func floatText(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}
