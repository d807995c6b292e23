package apps

import (
	"strconv"
	"strings"

	views "gatehouse/views/apps"
)

// SDKPath is where every tenant host serves the web SDK's stable alias.
const SDKPath = "/sdk/v1/gatehouse.js"

// Snippets are the copy-ready lines an app's developer needs for its type:
// the SDK's script and createClient for a spa, the discovery URL, client id
// and redirect for web and native apps, and a client_credentials call for a
// machine. Values are the app's own; a secret never appears, only the
// variable that holds it.
func Snippets(a App, issuer string) []views.Snippet {
	id := "snip-" + a.ClientID
	redirect := "https://app.example.com/callback"
	if len(a.RedirectURIs) > 0 {
		redirect = a.RedirectURIs[0]
	}
	discovery := views.Snippet{ID: id + "-discovery", Label: "Discovery URL", Text: issuer + "/.well-known/openid-configuration"}
	client := views.Snippet{ID: id + "-client", Label: "Client id", Text: a.ClientID}
	switch a.Type {
	case SPA:
		return []views.Snippet{{ID: id + "-sdk", Label: "Add to your page", Text: "<script type=\"module\">\n" +
			"  import { createClient } from " + strconv.Quote(issuer+SDKPath) + ";\n" +
			"  const gatehouse = createClient({ clientId: " + strconv.Quote(a.ClientID) + ", redirectUri: " + strconv.Quote(redirect) + " });\n" +
			"  await gatehouse.handleRedirect();\n" +
			"  // gatehouse.login(), gatehouse.getUser(), gatehouse.logout()\n" +
			"</script>"}, client}
	case Machine:
		cmd := "curl -u \"" + a.ClientID + ":$CLIENT_SECRET\" -d grant_type=client_credentials"
		if len(a.Scopes) > 0 {
			cmd += " -d scope=" + shellQuote(strings.Join(a.Scopes, " "))
		}
		return []views.Snippet{{ID: id + "-token", Label: "Get an access token", Text: cmd + " \\\n  " + issuer + "/oauth/token"}, client}
	default:
		out := []views.Snippet{discovery, client}
		if len(a.RedirectURIs) > 0 {
			out = append(out, views.Snippet{ID: id + "-redirect", Label: "Redirect URI", Text: strings.Join(a.RedirectURIs, "\n")})
		}
		return out
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if !strings.ContainsAny(s, " '\"$\\`") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
