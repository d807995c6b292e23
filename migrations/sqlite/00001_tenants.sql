-- +goose Up
CREATE TABLE tenants (
    id         text NOT NULL PRIMARY KEY,
    slug       text NOT NULL UNIQUE,
    name       text NOT NULL,
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    theme      json NOT NULL DEFAULT '{}',
    settings   json NOT NULL DEFAULT '{}',
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);

CREATE TABLE tenant_domains (
    id         text NOT NULL PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hostname   text NOT NULL UNIQUE,
    verified   boolean NOT NULL DEFAULT false,
    created_at datetime NOT NULL
);
CREATE INDEX tenant_domains_tenant_id ON tenant_domains (tenant_id);

-- +goose Down
DROP TABLE tenant_domains;
DROP TABLE tenants;
