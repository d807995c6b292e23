-- +goose Up
CREATE TABLE tenants (
    id         uuid PRIMARY KEY,
    slug       text NOT NULL UNIQUE,
    name       text NOT NULL,
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    theme      jsonb NOT NULL DEFAULT '{}',
    settings   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE tenant_domains (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hostname   text NOT NULL UNIQUE,
    verified   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);
CREATE INDEX tenant_domains_tenant_id ON tenant_domains (tenant_id);

-- +goose Down
DROP TABLE tenant_domains;
DROP TABLE tenants;
