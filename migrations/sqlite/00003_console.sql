-- +goose Up
-- Console staff. Roles are not here: they are casbin grouping rules in
-- casbin_rules (staff id, role, tenant id or '*'), so one person can hold
-- different roles in several tenants. email is stored case-folded.
CREATE TABLE staff (
    id            text NOT NULL PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'invited', 'disabled')),
    created_at    datetime NOT NULL,
    updated_at    datetime NOT NULL,
    last_login_at datetime
);

-- casbin policies (p: role, domain, object, action) and role assignments
-- (g: staff id, role, domain), read by app/access's adapter.
CREATE TABLE casbin_rules (
    id    text NOT NULL PRIMARY KEY,
    ptype text NOT NULL,
    v0    text NOT NULL DEFAULT '',
    v1    text NOT NULL DEFAULT '',
    v2    text NOT NULL DEFAULT '',
    v3    text NOT NULL DEFAULT '',
    v4    text NOT NULL DEFAULT '',
    v5    text NOT NULL DEFAULT '',
    UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);
CREATE INDEX casbin_rules_domain ON casbin_rules (ptype, v2);

-- One logo per tenant, served from the tenant's host.
CREATE TABLE tenant_logos (
    tenant_id    text NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    content_type text NOT NULL,
    data         blob NOT NULL,
    sha256       text NOT NULL,
    updated_at   datetime NOT NULL
);

-- Social login apps per tenant. The client secret is sealed with the
-- master key (app/secrets) under the context "social:<tenant id>:<kind>".
CREATE TABLE social_providers (
    id            text NOT NULL PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind          text NOT NULL,
    enabled       boolean NOT NULL DEFAULT false,
    client_id     text NOT NULL DEFAULT '',
    sealed_secret text NOT NULL DEFAULT '',
    discovery_url text NOT NULL DEFAULT '',
    auth_url      text NOT NULL DEFAULT '',
    token_url     text NOT NULL DEFAULT '',
    userinfo_url  text NOT NULL DEFAULT '',
    scopes        text NOT NULL DEFAULT '',
    claim_mapping json NOT NULL DEFAULT '{}',
    created_at    datetime NOT NULL,
    updated_at    datetime NOT NULL,
    UNIQUE (tenant_id, kind)
);

CREATE INDEX audit_events_tenant_id ON audit_events (tenant_id, id);

-- +goose Down
DROP INDEX audit_events_tenant_id;
DROP TABLE social_providers;
DROP TABLE tenant_logos;
DROP TABLE casbin_rules;
DROP TABLE staff;
