package api

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"gatehouse/app/headless"
	"gatehouse/app/passwords"
	"gatehouse/app/web"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// challengeIn is an authorization challenge request (draft-ietf-oauth-
// first-party-apps §5.1), sent as a form, as the draft says, or as JSON.
// username is the draft's name for the email.
type challengeIn struct {
	ClientID            string         `json:"client_id"`
	Email               string         `json:"email"`
	Username            string         `json:"username"`
	Password            string         `json:"password"`
	AuthSession         string         `json:"auth_session"`
	Scope               string         `json:"scope"`
	CodeChallenge       string         `json:"code_challenge"`
	CodeChallengeMethod string         `json:"code_challenge_method"`
	DeviceToken         string         `json:"device_token"`
	Profile             map[string]any `json:"profile"`
}

// challengeForm is the form's member names; "profile.KEY" carries a
// registration field.
var challengeForm = map[string]func(*challengeIn, string){
	"client_id":             func(in *challengeIn, v string) { in.ClientID = v },
	"email":                 func(in *challengeIn, v string) { in.Email = v },
	"username":              func(in *challengeIn, v string) { in.Username = v },
	"password":              func(in *challengeIn, v string) { in.Password = v },
	"auth_session":          func(in *challengeIn, v string) { in.AuthSession = v },
	"scope":                 func(in *challengeIn, v string) { in.Scope = v },
	"code_challenge":        func(in *challengeIn, v string) { in.CodeChallenge = v },
	"code_challenge_method": func(in *challengeIn, v string) { in.CodeChallengeMethod = v },
	"device_token":          func(in *challengeIn, v string) { in.DeviceToken = v },
}

func bindChallenge(c *gin.Context) (challengeIn, error) {
	var in challengeIn
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return in, Bind(c, &in)
	}
	body, err := readBody(c)
	if err != nil {
		return in, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return in, apperr.Field("body", "is not a valid form")
	}
	for k, vs := range form {
		if key, ok := strings.CutPrefix(k, "profile."); ok {
			if in.Profile == nil {
				in.Profile = map[string]any{}
			}
			in.Profile[key] = vs[0]
			continue
		}
		set, ok := challengeForm[k]
		if !ok {
			return in, apperr.Field(k, "is not a member of this request")
		}
		set(&in, vs[0])
	}
	return in, nil
}

// grantedJSON is the draft's success answer, plus the device token.
type grantedJSON struct {
	AuthorizationCode string `json:"authorization_code"`
	DeviceToken       string `json:"device_token,omitempty"`
}

// authorizeChallenge is POST /authorize-challenge.
func (h *self) authorizeChallenge(c *gin.Context) {
	in, err := bindChallenge(c)
	if err != nil {
		Problem(c, err)
		return
	}
	profile, err := profileValues(in.Profile)
	if err != nil {
		Problem(c, err)
		return
	}
	email := in.Email
	if email == "" {
		email = in.Username
	}
	g, err := h.headless.Authorize(c.Request.Context(), tenants.FromGin(c), headless.Challenge{
		ClientID: in.ClientID, Email: email, Password: in.Password, AuthSession: in.AuthSession, Scope: in.Scope,
		CodeChallenge: in.CodeChallenge, CodeChallengeMethod: in.CodeChallengeMethod, Device: in.DeviceToken, Profile: profile,
	}, requestOf(c))
	h.answer(c, g, err)
}

type signupIn struct {
	ClientID            string         `json:"client_id"`
	Email               string         `json:"email"`
	Password            string         `json:"password"`
	Profile             map[string]any `json:"profile"`
	Scope               string         `json:"scope"`
	CodeChallenge       string         `json:"code_challenge"`
	CodeChallengeMethod string         `json:"code_challenge_method"`
}

// signup is POST /signup.
func (h *self) signup(c *gin.Context) {
	var in signupIn
	if err := Bind(c, &in); err != nil {
		Problem(c, err)
		return
	}
	profile, err := profileValues(in.Profile)
	if err != nil {
		Problem(c, err)
		return
	}
	g, err := h.headless.SignUp(c.Request.Context(), tenants.FromGin(c), headless.Signup{
		ClientID: in.ClientID, Email: in.Email, Password: in.Password, Profile: profile, Scope: in.Scope,
		CodeChallenge: in.CodeChallenge, CodeChallengeMethod: in.CodeChallengeMethod,
	}, requestOf(c))
	h.answer(c, g, err)
}

func (h *self) answer(c *gin.Context, g headless.Granted, err error) {
	if err != nil {
		headlessProblem(c, err)
		return
	}
	c.JSON(http.StatusOK, grantedJSON{AuthorizationCode: g.Code, DeviceToken: g.DeviceToken})
}

// oauthProblemJSON is a problem that also carries the OAuth error members
// of the first-party apps draft, so a client written to the draft reads
// error and auth_session where it expects them.
type oauthProblemJSON struct {
	ProblemJSON
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
	AuthSession      string      `json:"auth_session,omitempty"`
	Reason           string      `json:"reason,omitempty"`
	MissingFields    []fieldJSON `json:"missing_fields,omitempty"`
}

// headlessProblem writes a refusal or an insufficient_authorization as an
// OAuth problem, and anything else through Problem.
func headlessProblem(c *gin.Context, err error) {
	var ref *headless.Refusal
	var need *headless.Needed
	var body oauthProblemJSON
	switch {
	case errors.As(err, &ref):
		body = oauthProblemJSON{
			ProblemJSON: ProblemJSON{Type: ProblemBase + strings.ReplaceAll(ref.OAuth, "_", "-"), Title: oauthTitles[ref.OAuth], Status: ref.Status, Detail: ref.Message},
			Error:       ref.OAuth, ErrorDescription: ref.Message,
		}
		if ref.OAuth == "invalid_client" {
			c.Header("WWW-Authenticate", `Bearer error="invalid_client"`)
		}
	case errors.As(err, &need):
		body = oauthProblemJSON{
			ProblemJSON: ProblemJSON{Type: ProblemBase + "insufficient-authorization", Title: oauthTitles["insufficient_authorization"], Status: http.StatusBadRequest, Detail: need.Message, Errors: fieldErrors(need.Errors)},
			Error:       "insufficient_authorization", ErrorDescription: need.Message, AuthSession: need.AuthSession, Reason: need.Reason,
		}
		if len(need.Missing) > 0 {
			body.MissingFields = fieldsOf(need.Missing)
		}
		if len(need.Errors) == 0 {
			body.Errors = nil
		}
	default:
		Problem(c, err)
		return
	}
	body.RequestID = web.RequestID(c)
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(body.Status, body)
}

var oauthTitles = map[string]string{
	"invalid_request":            "The request is missing something.",
	"invalid_client":             "Unknown app.",
	"unauthorized_client":        "This app may not sign customers in here.",
	"invalid_scope":              "Unknown scope.",
	"invalid_session":            "The auth_session is not valid.",
	"insufficient_authorization": "More is needed before signing in.",
}

// forgotIn is a forgot-password request from a first-party app.
type forgotIn struct {
	ClientID string `json:"client_id"`
	Email    string `json:"email"`
}

// forgotPassword is POST /password/forgot: the same 202 whether or not the
// address has an account, as on the hosted page.
func (h *self) forgotPassword(c *gin.Context) {
	var in forgotIn
	if err := Bind(c, &in); err != nil {
		Problem(c, err)
		return
	}
	t := tenants.FromGin(c)
	if _, err := h.headless.Client(c.Request.Context(), t, in.ClientID); err != nil {
		headlessProblem(c, err)
		return
	}
	if err := h.accounts.ForgotPassword(c.Request.Context(), t, in.Email, requestOf(c)); err != nil {
		Problem(c, err)
		return
	}
	c.Status(http.StatusAccepted)
}

type resetIn struct {
	ClientID string `json:"client_id"`
	Token    string `json:"token"`
	Password string `json:"password"`
}

// resetPassword is POST /password/reset with the token from the mailed
// link. It signs nobody in; the device token it returns exempts the app
// from the throttles strangers tripped, as the hosted reset does for the
// browser.
func (h *self) resetPassword(c *gin.Context) {
	var in resetIn
	if err := Bind(c, &in); err != nil {
		Problem(c, err)
		return
	}
	t := tenants.FromGin(c)
	if _, err := h.headless.Client(c.Request.Context(), t, in.ClientID); err != nil {
		headlessProblem(c, err)
		return
	}
	cust, err := h.accounts.ResetPassword(c.Request.Context(), t, in.Token, in.Password, requestOf(c))
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid && e.Field == "" {
			err = apperr.Field("token", "%s", e.Message)
		} else if ok && e.Field == "password" {
			err = apperr.Field("password", "Password %s.", e.Message)
		}
		Problem(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"device_token": h.accounts.DeviceToken(t, cust)})
}

type resendIn struct {
	ClientID string `json:"client_id"`
	Email    string `json:"email"`
}

// resendVerification is POST /verification/resend: a new link, a few
// times an hour at most, with the same answer for any address.
func (h *self) resendVerification(c *gin.Context) {
	var in resendIn
	if err := Bind(c, &in); err != nil {
		Problem(c, err)
		return
	}
	t := tenants.FromGin(c)
	if _, err := h.headless.Client(c.Request.Context(), t, in.ClientID); err != nil {
		headlessProblem(c, err)
		return
	}
	if err := h.accounts.ResendVerification(c.Request.Context(), t, nil, in.Email); err != nil {
		Problem(c, err)
		return
	}
	c.Status(http.StatusAccepted)
}

// schema is GET /schema: what a custom UI needs to draw the brand's
// sign-up and profile forms and to match its hosted pages. Theme values
// fall back to the defaults as the hosted stylesheet does.
func (h *self) schema(c *gin.Context) {
	t := tenants.FromGin(c)
	th, d := t.Theme, tenants.DefaultTheme()
	colour := func(v, def string) string {
		if col, err := tenants.ParseColor(v); err == nil {
			return col
		}
		return def
	}
	if _, ok := tenants.Fonts[th.Font]; !ok {
		th.Font = d.Font
	}
	if th.Radius < 0 || th.Radius > tenants.MaxRadius {
		th.Radius = d.Radius
	}
	logo := ""
	if u, err := h.logos.URL(c.Request.Context(), t.ID); err == nil && u != "" {
		logo = h.issuer(tenants.NormalizeHost(c.Request.Host)) + u
	}
	minLen := max(t.Settings.MinPasswordLength, 8)
	name := th.DisplayName
	if name == "" {
		name = t.Name
	}
	c.JSON(http.StatusOK, schemaJSON{
		Name: name, Fields: fieldsOf(t.Fields), Password: passwordRules{MinLength: minLen, MaxLength: passwords.MaxLength},
		EmailVerification: verificationMode(t), BrandLoginOnly: t.Settings.BrandLoginOnly,
		Theme: themeJSON{
			PrimaryColor: colour(th.PrimaryColor, d.PrimaryColor), AccentColor: colour(th.AccentColor, d.AccentColor),
			BackgroundColor: colour(th.BackgroundColor, d.BackgroundColor), TextColor: colour(th.TextColor, d.TextColor),
			ButtonTextColor: colour(th.ButtonTextColor, d.ButtonTextColor), Font: th.Font, FontStack: tenants.Fonts[th.Font],
			Radius: th.Radius, LogoURL: logo, Headline: th.Headline, SignupCopy: th.SignupCopy,
		},
	})
}

// schemaJSON is the tenant's public sign-up schema and design tokens.
type schemaJSON struct {
	Name              string        `json:"name"`
	Fields            []fieldJSON   `json:"fields"`
	Password          passwordRules `json:"password"`
	EmailVerification string        `json:"email_verification"`
	BrandLoginOnly    bool          `json:"brand_login_only"`
	Theme             themeJSON     `json:"theme"`
}

type passwordRules struct {
	MinLength int `json:"min_length"`
	MaxLength int `json:"max_length"`
}

// themeJSON is the theme's design tokens, as the hosted stylesheet's
// custom properties hold them.
type themeJSON struct {
	PrimaryColor    string `json:"primary_color"`
	AccentColor     string `json:"accent_color"`
	BackgroundColor string `json:"background_color"`
	TextColor       string `json:"text_color"`
	ButtonTextColor string `json:"button_text_color"`
	Font            string `json:"font"`
	FontStack       string `json:"font_stack"`
	Radius          int    `json:"radius"`
	LogoURL         string `json:"logo_url"`
	Headline        string `json:"headline"`
	SignupCopy      string `json:"signup_copy"`
}

func verificationMode(t *tenants.Tenant) string {
	if t.Settings.EmailVerification == "required" {
		return "required"
	}
	return "optional"
}
