package oidc

import (
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/rs/cors"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"gatehouse/app/hosted"
	"gatehouse/app/web"
	"gatehouse/tenants"
)

// The provider's endpoints, relative to the issuer. Clients find them
// through discovery; the hosted routes list them once.
const (
	DiscoveryPath  = "/.well-known/openid-configuration"
	AuthorizePath  = "/oauth/authorize"
	CallbackPath   = "/oauth/authorize/callback"
	TokenPath      = "/oauth/token"
	UserinfoPath   = "/oauth/userinfo"
	KeysPath       = "/oauth/keys"
	RevokePath     = "/oauth/revoke"
	IntrospectPath = "/oauth/introspect"
	EndSessionPath = "/oauth/end_session"
)

// Deps are what the provider is built from.
type Deps struct {
	Storage *Storage
	// MasterKey is GATEHOUSE_SECRET_KEY. op encrypts its authorization codes
	// with a key derived from it, so every node and every restart reads the
	// codes the others issued.
	MasterKey []byte
	// PublicURL is the scheme, host and port public links use for a host:
	// the issuer of that host.
	PublicURL func(host string) string
	Insecure  bool // http issuers, for --dev and tests
	Render    *web.Renderer
	Pages     *hosted.Pages
	Log       *slog.Logger
}

// Handlers serve the provider on tenant hosts. They sit behind the tenant
// middleware, so op only ever sees a host that is a live tenant's: an
// unknown host got the plain 404 before reaching here.
type Handlers struct {
	op      *op.Provider
	cors    *cors.Cors // op's CORS policy, for the endpoints served here
	storage *Storage
	render  *web.Renderer
	pages   *hosted.Pages
	log     *slog.Logger
}

// New builds the one provider that serves every tenant host.
func New(d Deps) (*Handlers, error) {
	cfg := &op.Config{
		CryptoKey:                sha256.Sum256(append([]byte("gatehouse oidc code key\x00"), d.MasterKey...)),
		CryptoKeyId:              "1",
		DefaultLogoutRedirectURI: "/login?notice=logout",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess},
	}
	storage := d.Storage
	grants := &tokenGrants{storage: storage}
	opts := []op.Option{
		op.WithHttpInterceptors(grants.intercept), // access tokens typed at+jwt (token_grants.go)
		op.WithCustomEndpoints(
			op.NewEndpoint(AuthorizePath), op.NewEndpoint(TokenPath), op.NewEndpoint(UserinfoPath),
			op.NewEndpoint(RevokePath), op.NewEndpoint(EndSessionPath), op.NewEndpoint(KeysPath)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(IntrospectPath)),
		op.WithCORSOptions(&cors.Options{
			// Browsers may call the token, userinfo and revocation
			// endpoints only from an origin one of the tenant's spa apps
			// registered. No cookies are involved in those calls.
			AllowOriginVaryRequestFunc: storage.corsAllowed,
			AllowedMethods:             []string{http.MethodGet, http.MethodPost},
			AllowedHeaders:             []string{"Authorization", "Content-Type", "Accept"},
			MaxAge:                     600,
		}),
	}
	if d.Insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	// The issuer is the host's public URL, as mail links are built: the
	// host was validated by the tenant middleware, and scheme and port come
	// from configuration, not from the request.
	issuer := func(bool) (op.IssuerFromRequest, error) {
		return func(r *http.Request) string { return d.PublicURL(tenants.NormalizeHost(r.Host)) }, nil
	}
	p, err := op.NewProvider(cfg, storage, issuer, opts...)
	if err != nil {
		return nil, err
	}
	grants.op = p
	return &Handlers{op: p, cors: cors.New(*p.CORSOptions()), storage: storage, render: d.Render, pages: d.Pages, log: d.Log}, nil
}

// corsAllowed admits the origins the tenant's spa apps registered.
// The answer depends only on the Origin (and the host), which responses
// already vary by, so no further Vary header is needed.
func (s *Storage) corsAllowed(r *http.Request, origin string) (bool, []string) {
	if origin == "" {
		// Not a cross-origin call: rs/cors asks anyway, and the answer
		// adds no header, so no app list is loaded for it.
		return false, nil
	}
	t, ok := tenants.FromContext(r.Context())
	if !ok {
		return false, nil
	}
	list, err := s.apps.For(t.ID).List(r.Context())
	if err != nil {
		return false, nil
	}
	for _, a := range list {
		if a.OriginAllowed(origin) {
			return true, nil
		}
	}
	return false, nil
}

// Serve hands the request to op, with the browser's session (for
// end_session) and room for the client's signing algorithm in the context.
func (h *Handlers) Serve(c *gin.Context) {
	st := &requestState{host: tenants.NormalizeHost(c.Request.Host), sessionToken: sessionTokenOf(c)}
	if c.Request.Method == http.MethodPost && c.Request.URL.Path == TokenPath {
		st.clientID, st.clientSecret = clientCredentialsOf(c.Request)
	}
	h.op.ServeHTTP(c.Writer, c.Request.WithContext(withState(c.Request.Context(), st)))
}

// clientCredentialsOf reads the client id and secret of a token request
// as op will (HTTP Basic, form-encoded per RFC 6749 §2.3.1, or the form),
// so that the client is authenticated with one query when op asks for it.
// op still checks them itself, through AuthorizeClientIDSecret.
func clientCredentialsOf(r *http.Request) (string, string) {
	if id, secret, ok := r.BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", ""
		}
		return uid, usecret
	}
	if r.ParseForm() != nil {
		return "", ""
	}
	return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
}

// Authorize is /oauth/authorize. The client and its redirect URI are
// checked here first: when either is wrong the customer gets a branded
// page and is never redirected (RFC 6749 §4.1.2.1). Public apps must use
// PKCE with S256, and nobody may use the "plain" method; those errors go
// back to the app's (now trusted) redirect URI.
func (h *Handlers) Authorize(c *gin.Context) {
	t := tenants.FromGin(c)
	if err := c.Request.ParseForm(); err != nil {
		h.errorPage(c, t, "The app's sign-in link is malformed.")
		return
	}
	f := c.Request.Form
	a, err := h.storage.apps.For(t.ID).ByClientID(c.Request.Context(), f.Get("client_id"))
	if err != nil {
		h.errorPage(c, t, "This app is not registered with "+t.Name+". Please contact the app's makers.")
		return
	}
	if !a.RedirectAllowed(f.Get("redirect_uri")) {
		h.errorPage(c, t, "The app asked to send you to an address it has not registered, so we stopped here.")
		return
	}
	redirect, state, mode := f.Get("redirect_uri"), f.Get("state"), f.Get("response_mode")
	challenge, method := f.Get("code_challenge"), f.Get("code_challenge_method")
	if challenge != "" && method != string(oidc.CodeChallengeMethodS256) {
		redirectError(c, redirect, mode, state, string(oidc.InvalidRequest), "code_challenge_method must be S256")
		return
	}
	if !a.Confidential() && challenge == "" {
		redirectError(c, redirect, mode, state, string(oidc.InvalidRequest), "this app must use PKCE (code_challenge with S256)")
		return
	}
	h.Serve(c)
}

// Callback is op's /oauth/authorize/callback, reached from Continue. It
// only issues a code to the browser that signed in for the request.
func (h *Handlers) Callback(c *gin.Context) {
	t := tenants.FromGin(c)
	req, err := h.storage.Request(c.Request.Context(), t, c.Query("id"))
	cust := customerOf(c)
	if err != nil || !req.Complete || cust == nil || cust.ID != req.CustomerID {
		h.errorPage(c, t, "This sign-in has expired or was started in another browser. Go back to the app and try again.")
		return
	}
	h.Serve(c)
}

func (h *Handlers) errorPage(c *gin.Context, t *tenants.Tenant, msg string) {
	c.Header("Cache-Control", "no-store")
	h.render.HTML(c, http.StatusBadRequest, oauthErrorPage(h.pages, c, t, msg))
	c.Abort()
}

// redirectError sends an authorization error back to a redirect URI that
// has been matched against the app's registration.
func redirectError(c *gin.Context, redirectURI, mode, state string, code, desc string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		c.String(http.StatusBadRequest, "invalid redirect_uri")
		return
	}
	v := url.Values{"error": {code}, "error_description": {desc}}
	if state != "" {
		v.Set("state", state)
	}
	if mode == string(oidc.ResponseModeFragment) {
		u.Fragment = v.Encode()
	} else {
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, u.String())
}

func hasPrompt(r *Request, p string) bool { return slices.Contains(r.Prompts(), p) }

// Discovery is op's discovery document, corrected to what every client of
// ours may actually use: op lists the implicit flow and id_token response
// types unconditionally, but no app of ours is given them.
func (h *Handlers) Discovery(c *gin.Context) {
	ctx := op.ContextWithIssuer(c.Request.Context(), h.op.IssuerFromRequest(c.Request))
	doc := op.CreateDiscoveryConfig(ctx, h.op, h.storage)
	doc.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	doc.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
	doc.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	doc.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	// The tenant's own scopes and claims (registration fields released to
	// apps), and Back-Channel Logout with sid (backchannel.go).
	doc.ScopesSupported, doc.ClaimsSupported = discoveryScopesAndClaims(tenants.FromGin(c), doc.ScopesSupported)
	doc.BackChannelLogoutSupported, doc.BackChannelLogoutSessionSupported = true, true
	c.Header("Cache-Control", "public, max-age=300")
	// The document is public and carries no credential: a browser app on
	// any origin may read it to find the endpoints (the token, userinfo
	// and revocation endpoints still admit only the spa apps' origins).
	c.Header("Access-Control-Allow-Origin", "*")
	httphelper.MarshalJSON(c.Writer, withChallenge{doc, doc.Issuer + AuthorizationChallengePath})
}
