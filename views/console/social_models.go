package console

// SocialPage lists a tenant's social login providers.
type SocialPage struct {
	Chrome Chrome
	Slug   string
	Rows   []SocialRow
	// BrandLoginOnly is the tenant's "brand login only" switch: the
	// password forms are gone and customers sign in through the brand's
	// own provider.
	BrandLoginOnly bool
}

// SocialFailure is the last federated sign-in that failed at a provider's
// end, so the admin can tell a wrong secret from a provider that is down.
type SocialFailure struct {
	Reason string // discovery, token_exchange, invalid_client, id_token, userinfo, timeout
	Detail string
	At     string
}

// SocialProbe is what "Test connection" found at the provider.
type SocialProbe struct {
	Issuer, AuthURL, TokenURL, UserInfoURL, JWKSURL string
	Keys                                            int
}

// SocialRow is one provider in the list.
type SocialRow struct {
	Kind        string
	Label       string
	Configured  bool
	Enabled     bool
	ClientID    string
	HasSecret   bool
	CallbackURL string
	LastFailure *SocialFailure
}

// SocialEditPage edits one provider. There is no field for the secret's
// value: once saved it is never shown, only replaced.
type SocialEditPage struct {
	Chrome         Chrome
	Slug           string
	Kind           string
	Label          string
	CallbackURL    string
	NeedsDiscovery bool
	NeedsEndpoints bool
	HasSecret      bool
	Form           SocialForm
	LastFailure    *SocialFailure
	// Testable is true for kinds found through discovery (OpenID Connect).
	Testable bool
	// Probe and ProbeError are the answer of "Test connection", when asked.
	Probe      *SocialProbe
	ProbeError string
	// Stranded counts customers linked through this provider to an issuer
	// other than the configured one: they must sign in with the new
	// provider and link again.
	Stranded int64
}

// SocialForm holds one provider's settings as typed.
type SocialForm struct {
	Enabled      bool
	ClientID     string
	Scopes       string
	DiscoveryURL string
	AuthURL      string
	TokenURL     string
	UserInfoURL  string
	ClaimMapping string // one per line: profile_key = claim
	Errors       Errors
}
