-- +goose Up
-- See the PostgreSQL migration.

CREATE TABLE oidc_auth_requests (
    id              text NOT NULL PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id          text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    request         json NOT NULL,
    customer_id     text REFERENCES customers (id) ON DELETE CASCADE,
    auth_time       datetime,
    amr             text NOT NULL DEFAULT '',
    done            boolean NOT NULL DEFAULT false,
    code_hash       text UNIQUE,
    code_expires_at datetime,
    code_used_at    datetime,
    created_at      datetime NOT NULL,
    expires_at      datetime NOT NULL
);
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_refresh_tokens (
    id              text NOT NULL PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id          text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    customer_id     text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    family_id       text NOT NULL,
    token_hash      text NOT NULL UNIQUE,
    auth_request_id text,
    scopes          json NOT NULL DEFAULT '[]',
    amr             text NOT NULL DEFAULT '',
    auth_time       datetime NOT NULL,
    created_at      datetime NOT NULL,
    expires_at      datetime NOT NULL,
    used_at         datetime,
    revoked_at      datetime
);
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (tenant_id, family_id);
CREATE INDEX oidc_refresh_tokens_customer ON oidc_refresh_tokens (tenant_id, customer_id);

CREATE TABLE oidc_access_tokens (
    id              text NOT NULL PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id          text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    customer_id     text REFERENCES customers (id) ON DELETE CASCADE,
    subject         text NOT NULL,
    family_id       text,
    auth_request_id text,
    scopes          json NOT NULL DEFAULT '[]',
    created_at      datetime NOT NULL,
    expires_at      datetime NOT NULL,
    revoked_at      datetime
);
CREATE INDEX oidc_access_tokens_family ON oidc_access_tokens (tenant_id, family_id);
CREATE INDEX oidc_access_tokens_request ON oidc_access_tokens (tenant_id, auth_request_id);
CREATE INDEX oidc_access_tokens_customer ON oidc_access_tokens (tenant_id, customer_id);

CREATE TABLE oidc_consents (
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    app_id      text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    scopes      json NOT NULL DEFAULT '[]',
    granted_at  datetime NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, app_id)
);

-- +goose Down
DROP TABLE oidc_consents;
DROP TABLE oidc_access_tokens;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_auth_requests;
