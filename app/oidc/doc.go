// Package oidc is the OpenID Provider every brand host runs, for the
// brand's own web sites, apps and services. zitadel/oidc's op package owns
// the protocol; this package owns the data: op.Storage and op.Client are a
// thin adapter over our own stores (apps, signing keys, auth requests and
// tokens, every row carrying tenant_id), and the tenant always comes from
// the host the tenant middleware resolved, never from a client id alone.
// The hosted pages are the provider's login UI.
package oidc
