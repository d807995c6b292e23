-- +goose Up
-- A tenant's OAuth clients (its web sites, single-page apps, mobile apps and
-- back-end services). client_id is public and unique across the platform, but
-- every lookup also carries tenant_id, so a client of one tenant is nothing on
-- another tenant's host.
CREATE TABLE apps (
    id                  uuid PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id           text NOT NULL UNIQUE,
    name                text NOT NULL,
    type                text NOT NULL,
    redirect_uris       jsonb NOT NULL DEFAULT '[]',
    post_logout_uris    jsonb NOT NULL DEFAULT '[]',
    cors_origins        jsonb NOT NULL DEFAULT '[]',
    scopes              jsonb NOT NULL DEFAULT '[]',
    first_party         boolean NOT NULL DEFAULT false,
    signing_alg         text NOT NULL DEFAULT 'ES256',
    access_token_seconds  integer NOT NULL DEFAULT 900,
    refresh_token_seconds integer NOT NULL DEFAULT 2592000,
    id_token_seconds      integer NOT NULL DEFAULT 3600,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX apps_tenant ON apps (tenant_id, name);

-- Client secrets, stored as the SHA-256 of a 256-bit random value. A rotated
-- secret keeps working until expires_at, the grace period the admin chose.
CREATE TABLE app_secrets (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id      uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    secret_hash text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz
);
CREATE INDEX app_secrets_app ON app_secrets (tenant_id, app_id);

-- +goose Down
DROP TABLE app_secrets;
DROP TABLE apps;
