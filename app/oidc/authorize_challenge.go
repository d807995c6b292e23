package oidc

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

// AuthorizationChallengePath is the headless sign-in endpoint of OAuth 2.0
// for First-Party Applications (draft-ietf-oauth-first-party-apps), served
// by app/api and advertised in discovery.
const AuthorizationChallengePath = "/api/v1/authorize-challenge"

// HeadlessGrant is a sign-in that a first-party app's own screens
// completed: who signed in, when and how, and the PKCE challenge and
// scopes the app asked with.
type HeadlessGrant struct {
	ClientID      string
	CustomerID    uuid.UUID
	Scopes        []string
	CodeChallenge string // S256
	AuthTime      time.Time
	AMR           []string
}

// IssueHeadlessCode stores a finished authorization request for g and
// returns its code, which the ordinary token endpoint exchanges with the
// PKCE verifier like any other: same row, same single use, same minute.
// The request has no redirect URI, so a token request must send none,
// and the hosted /oauth/continue never sees it (it is born with its code).
func (s *Storage) IssueHeadlessCode(ctx context.Context, t *tenants.Tenant, g HeadlessGrant) (string, error) {
	if g.CodeChallenge == "" || g.CustomerID == uuid.Nil {
		return "", apperr.New(apperr.Internal, "oidc: headless code without challenge or customer")
	}
	a, err := s.apps.For(t.ID).ByClientID(ctx, g.ClientID)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(params{
		ClientID: a.ClientID, Scopes: g.Scopes, ResponseType: string(oidc.ResponseTypeCode),
		CodeChallenge: g.CodeChallenge, CodeChallengeMethod: string(oidc.CodeChallengeMethodS256),
	})
	if err != nil {
		return "", apperr.Wrap(err, "oidc: encode headless request")
	}
	now := s.now()
	code := randomID(32)
	hash, codeExp, authTime, cust := hashToken(code), now.Add(codeTTL), g.AuthTime.UTC(), g.CustomerID
	row := authRequestRow{
		ID: randomID(16), TenantID: t.ID, AppID: a.ID, Request: body, CustomerID: &cust, AuthTime: &authTime,
		AMR: strings.Join(g.AMR, " "), Done: true, CodeHash: &hash, CodeExpiresAt: &codeExp,
		CreatedAt: now, ExpiresAt: now.Add(authRequestTTL),
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return "", apperr.Wrap(err, "oidc: store headless request")
	}
	return code, nil
}

// withChallenge is the discovery document with the first-party apps
// draft's authorization_challenge_endpoint, which op does not know.
type withChallenge struct {
	*oidc.DiscoveryConfiguration
	AuthorizationChallengeEndpoint string `json:"authorization_challenge_endpoint"`
}
