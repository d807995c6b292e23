package oidc

import (
	"context"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"gatehouse/app/apps"
)

// signer signs with k, naming its kid, under the JOSE header typ.
func (k *SigningKey) signer(typ string) (jose.Signer, error) {
	return jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: jose.JSONWebKey{Key: k.Private, KeyID: k.KID}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
}

// signingKey adapts our key to op.SigningKey.
type signingKey struct{ k *SigningKey }

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(s.k.Alg)
}
func (s signingKey) Key() any   { return s.k.Private }
func (s signingKey) ID() string { return s.k.KID }

// publicKey adapts our key's public half to op.Key, for the JWKS.
type publicKey struct{ k *SigningKey }

func (p publicKey) ID() string                         { return p.k.KID }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(p.k.Alg) }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Private.Public() }

// SigningKey is the tenant's current key for the algorithm of the client
// this request loaded (ES256 unless the app asks for RS256).
func (s *Storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.requestSigningKey(ctx)
	if err != nil {
		return nil, err
	}
	return signingKey{k}, nil
}

func (s *Storage) requestSigningKey(ctx context.Context) (*SigningKey, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	alg := apps.ES256
	if st := stateOf(ctx); st != nil && st.alg != "" {
		alg = st.alg
	}
	k, err := s.keys.Signing(ctx, t.ID, alg)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return k, nil
}

// AccessTokenType is the JOSE typ of our access tokens (RFC 9068 §2.1).
// id_tokens keep op's "JWT", so neither can pass for the other.
const AccessTokenType = "at+jwt"

// signAccessToken signs an access token's claims with the key SigningKey
// gives this request (the same key and kid as its id_token), typed at+jwt.
func (s *Storage) signAccessToken(ctx context.Context, claims *oidc.AccessTokenClaims) (string, error) {
	key, err := s.requestSigningKey(ctx)
	if err != nil {
		return "", err
	}
	signer, err := key.signer(AccessTokenType)
	if err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	token, err := crypto.Sign(claims, signer)
	if err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	return token, nil
}

// SignatureAlgorithms are what discovery advertises for id_tokens.
func (s *Storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256, jose.RS256}, nil
}

// KeySet is the tenant's JWKS: the signing keys, the next ones and the
// retired ones whose tokens may still be alive.
func (s *Storage) KeySet(ctx context.Context) ([]op.Key, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.keys.Published(ctx, t.ID)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	out := make([]op.Key, 0, len(keys))
	for _, k := range keys {
		out = append(out, publicKey{k})
	}
	return out, nil
}
