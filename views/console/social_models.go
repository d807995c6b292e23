package console

// SocialPage lists a tenant's social login providers.
type SocialPage struct {
	Chrome Chrome
	Slug   string
	Rows   []SocialRow
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
