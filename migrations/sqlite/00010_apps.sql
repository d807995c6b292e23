-- +goose Up
-- See the PostgreSQL migration.
CREATE TABLE apps (
    id                  text NOT NULL PRIMARY KEY,
    tenant_id           text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id           text NOT NULL UNIQUE,
    name                text NOT NULL,
    type                text NOT NULL,
    redirect_uris       json NOT NULL DEFAULT '[]',
    post_logout_uris    json NOT NULL DEFAULT '[]',
    cors_origins        json NOT NULL DEFAULT '[]',
    scopes              json NOT NULL DEFAULT '[]',
    first_party         boolean NOT NULL DEFAULT false,
    signing_alg         text NOT NULL DEFAULT 'ES256',
    access_token_seconds  integer NOT NULL DEFAULT 900,
    refresh_token_seconds integer NOT NULL DEFAULT 2592000,
    id_token_seconds      integer NOT NULL DEFAULT 3600,
    created_at          datetime NOT NULL,
    updated_at          datetime NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX apps_tenant ON apps (tenant_id, name);

CREATE TABLE app_secrets (
    id          text NOT NULL PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id      text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    secret_hash text NOT NULL,
    created_at  datetime NOT NULL,
    expires_at  datetime
);
CREATE INDEX app_secrets_app ON app_secrets (tenant_id, app_id);

-- +goose Down
DROP TABLE app_secrets;
DROP TABLE apps;
