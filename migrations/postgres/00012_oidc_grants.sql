-- +goose Up
-- The OpenID Provider's state. Every row carries tenant_id and every lookup
-- is made within the tenant of the host the request came to.

-- An authorization request from /oauth/authorize until its code is
-- exchanged. id is 128 random bits (it travels in the login URL). The code
-- is stored only as a hash; code_used_at makes it single-use, and a second
-- exchange revokes the tokens of the first.
CREATE TABLE oidc_auth_requests (
    id              text PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id          uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    request         jsonb NOT NULL,
    customer_id     uuid REFERENCES customers (id) ON DELETE CASCADE,
    auth_time       timestamptz,
    amr             text NOT NULL DEFAULT '',
    done            boolean NOT NULL DEFAULT false,
    code_hash       text UNIQUE,
    code_expires_at timestamptz,
    code_used_at    timestamptz,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

-- Refresh tokens, stored as a hash. Each use rotates the token: the old row
-- gets used_at, the new one joins the same family. Presenting a used token
-- again revokes the whole family.
CREATE TABLE oidc_refresh_tokens (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id          uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    customer_id     uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    family_id       uuid NOT NULL,
    token_hash      text NOT NULL UNIQUE,
    auth_request_id text,
    scopes          jsonb NOT NULL DEFAULT '[]',
    amr             text NOT NULL DEFAULT '',
    auth_time       timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (tenant_id, family_id);
CREATE INDEX oidc_refresh_tokens_customer ON oidc_refresh_tokens (tenant_id, customer_id);

-- Access tokens are signed JWTs; this row is what makes one revocable. id is
-- the token's jti. customer_id is NULL for a machine app's own token.
CREATE TABLE oidc_access_tokens (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id          uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    customer_id     uuid REFERENCES customers (id) ON DELETE CASCADE,
    subject         text NOT NULL,
    family_id       uuid,
    auth_request_id text,
    scopes          jsonb NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz
);
CREATE INDEX oidc_access_tokens_family ON oidc_access_tokens (tenant_id, family_id);
CREATE INDEX oidc_access_tokens_request ON oidc_access_tokens (tenant_id, auth_request_id);
CREATE INDEX oidc_access_tokens_customer ON oidc_access_tokens (tenant_id, customer_id);

-- What a customer allowed a third-party app to see. First-party apps need
-- no consent. A request for scopes beyond these asks again.
CREATE TABLE oidc_consents (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    app_id      uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    scopes      jsonb NOT NULL DEFAULT '[]',
    granted_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, app_id)
);

-- +goose Down
DROP TABLE oidc_consents;
DROP TABLE oidc_access_tokens;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_auth_requests;
