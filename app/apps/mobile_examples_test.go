package apps

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestMobileExampleRedirects reads the deep-link configuration in
// docs/examples/mobile and the registration line of docs/integrate-mobile.md:
// every redirect URI the iOS and Android files claim is one the guide
// registers, and a native app with those URIs passes our validation.
func TestMobileExampleRedirects(t *testing.T) {
	const dir = "../../docs/examples/mobile/"
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(dir + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	guide, err := os.ReadFile("../../docs/integrate-mobile.md")
	if err != nil {
		t.Fatal(err)
	}
	var n New
	n.Name, n.Type = "Acme Coffee app", Native
	for _, m := range regexp.MustCompile(`--(redirect-uri|post-logout-uri) (\S+)`).FindAllStringSubmatch(string(guide), -1) {
		if m[1] == "redirect-uri" {
			n.RedirectURIs = append(n.RedirectURIs, m[2])
		} else {
			n.PostLogoutURIs = append(n.PostLogoutURIs, m[2])
		}
	}
	if err := n.validate(); err != nil {
		t.Fatalf("the guide's app create line is refused: %v", err)
	}
	registered := append(slices.Clone(n.RedirectURIs), n.PostLogoutURIs...)
	claimed := map[string]bool{}

	// Android: every <data> of the receiver activity's intent filters.
	var manifest struct {
		Activities []struct {
			Filters []struct {
				AutoVerify string `xml:"autoVerify,attr"`
				Data       []struct {
					Scheme string `xml:"scheme,attr"`
					Host   string `xml:"host,attr"`
					Path   string `xml:"path,attr"`
				} `xml:"data"`
			} `xml:"intent-filter"`
		} `xml:"application>activity"`
	}
	if err := xml.Unmarshal(read("android/AndroidManifest.xml"), &manifest); err != nil {
		t.Fatal(err)
	}
	for _, a := range manifest.Activities {
		for _, f := range a.Filters {
			for _, d := range f.Data {
				u := d.Scheme + ":" + d.Path
				if d.Scheme == "https" {
					if f.AutoVerify != "true" {
						t.Errorf("the https intent filter for %s is not autoVerify, so it is no App Link", d.Host)
					}
					u = "https://" + d.Host + d.Path
				}
				claimed[u] = true
			}
		}
	}
	var links []struct {
		Target struct {
			Package string `json:"package_name"`
		} `json:"target"`
	}
	if err := json.Unmarshal(read("android/assetlinks.json"), &links); err != nil || len(links) == 0 || links[0].Target.Package != "com.acme.coffee" {
		t.Fatalf("assetlinks.json: %v %+v", err, links)
	}

	// iOS: the custom scheme in Info.plist, and the universal-link paths of
	// apple-app-site-association on the host of the entitlement.
	plist := string(read("ios/Info.plist"))
	scheme := regexp.MustCompile(`(?s)CFBundleURLSchemes</key>\s*<array>\s*<string>([^<]+)</string>`).FindStringSubmatch(plist)
	if scheme == nil {
		t.Fatal("Info.plist declares no CFBundleURLSchemes")
	}
	host := regexp.MustCompile(`applinks:([^<]+)`).FindStringSubmatch(string(read("ios/Coffee.entitlements")))
	if host == nil {
		t.Fatal("the entitlements file has no applinks domain")
	}
	var aasa struct {
		Applinks struct {
			Details []struct {
				Components []map[string]string `json:"components"`
			} `json:"details"`
		} `json:"applinks"`
	}
	if err := json.Unmarshal(read("ios/apple-app-site-association"), &aasa); err != nil || len(aasa.Applinks.Details) == 0 {
		t.Fatalf("apple-app-site-association: %v", err)
	}
	iosLinks := 0
	for _, c := range aasa.Applinks.Details[0].Components {
		u := "https://" + host[1] + c["/"]
		if !slices.Contains(registered, u) {
			t.Errorf("apple-app-site-association claims %s, which the guide does not register", u)
		}
		iosLinks++
	}
	if iosLinks == 0 {
		t.Error("apple-app-site-association claims no paths")
	}
	customOK := false
	for _, r := range registered {
		if strings.HasPrefix(r, scheme[1]+":") {
			customOK = true
		}
	}
	if !customOK {
		t.Errorf("Info.plist's scheme %s is in no registered redirect URI", scheme[1])
	}

	if len(claimed) == 0 {
		t.Fatal("the Android manifest claims no redirect URIs")
	}
	for u := range claimed {
		if !slices.Contains(registered, u) {
			t.Errorf("AndroidManifest.xml claims %s, which the guide does not register", u)
		}
	}
}
