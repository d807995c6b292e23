package app

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"gatehouse/app/accounts"
	"gatehouse/app/social"
	views "gatehouse/views/console"
)

// federation gives the console's social pages what they need from sign-in
// without the console importing it: a probe of a brand provider through the
// outbound client, and the count of customers a change of issuer strands.
type federation struct {
	client   *http.Client
	accounts *accounts.Service
}

func (f federation) Probe(ctx context.Context, configured string) (views.SocialProbe, error) {
	d, err := social.Discover(ctx, f.client, configured)
	if err != nil {
		return views.SocialProbe{}, err
	}
	n, err := social.CountKeys(ctx, f.client, d.JWKSURL)
	if err != nil {
		return views.SocialProbe{}, err
	}
	return views.SocialProbe{Issuer: d.Issuer, AuthURL: d.AuthURL, TokenURL: d.TokenURL, UserInfoURL: d.UserInfoURL, JWKSURL: d.JWKSURL, Keys: n}, nil
}

func (f federation) Stranded(ctx context.Context, tenantID uuid.UUID, provider, issuer string) (int64, error) {
	return f.accounts.Stranded(ctx, tenantID, provider, issuer)
}
