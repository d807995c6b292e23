package email

import (
	"net/url"
	"regexp"

	"github.com/a-h/templ"
)

// Line breaks for text components: templ folds the newlines of a template
// into spaces, so text parts mark their breaks with { nl } and { para }, and
// app/mail's RenderText trims the spaces templ leaves around them.
const (
	nl   = "\n"
	para = "\n\n"
)

// Fallbacks used when a brand colour is missing or malformed.
const (
	defaultPrimary    = "#18181b"
	defaultButtonText = "#ffffff"
)

// fontStack is the body font; system fonts render everywhere mail does. It
// has no quotes on purpose: templ escapes a dynamic style attribute twice,
// which would turn 'Segoe UI' into a literal &#39;Segoe UI&#39;.
const fontStack = "-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif"

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// color returns c when it is #rrggbb and fallback otherwise. Brand colours
// are validated when saved; checking again here means a bug elsewhere can
// at worst make a mail grey, never inject CSS.
func color(c, fallback string) string {
	if hexColor.MatchString(c) {
		return c
	}
	return fallback
}

func primary(b Brand) string    { return color(b.PrimaryColor, defaultPrimary) }
func buttonText(b Brand) string { return color(b.ButtonTextColor, defaultButtonText) }

// headerStyle and buttonStyle are built only from constants and colours that
// passed color, which is what makes the SafeCSS conversion true.
func headerStyle(b Brand) templ.SafeCSS {
	return templ.SafeCSS("background-color:" + primary(b) + ";padding:20px 24px;")
}

func headerTextStyle(b Brand) templ.SafeCSS {
	return templ.SafeCSS("color:" + buttonText(b) + ";font-family:" + fontStack + ";font-size:20px;font-weight:bold;")
}

func buttonStyle(b Brand) templ.SafeCSS {
	return templ.SafeCSS("display:inline-block;background-color:" + primary(b) + ";color:" + buttonText(b) +
		";font-family:" + fontStack + ";font-size:16px;font-weight:bold;text-decoration:none;padding:12px 24px;border-radius:4px;")
}

// webURL returns u when it is an absolute http(s) URL and "" otherwise, so a
// logo or link can never be a javascript: or data: URL.
func webURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return u
}
