-- +goose Up
-- OpenID Connect Back-Channel Logout 1.0.

-- Where an app wants its logout tokens; empty for none.
ALTER TABLE apps ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT '';

-- The sid claim of the id_tokens issued for the request: a stable name of
-- the customer's session on the host, derived from the session's id.
ALTER TABLE oidc_auth_requests ADD COLUMN sid text NOT NULL DEFAULT '';

-- Which apps a customer session signed in to, so that ending the session
-- tells each of them. session_id is the session's id (the SHA-256 of its
-- token), issuer the host's issuer at sign-in.
CREATE TABLE oidc_session_apps (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_id  text NOT NULL,
    app_id      uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    sid         text NOT NULL,
    issuer      text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, session_id, app_id)
);

-- +goose Down
DROP TABLE oidc_session_apps;
ALTER TABLE oidc_auth_requests DROP COLUMN sid;
ALTER TABLE apps DROP COLUMN backchannel_logout_uri;
