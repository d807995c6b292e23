-- +goose Up
-- See the PostgreSQL migration. SQLite cannot drop a table's UNIQUE
-- constraint, so the table is rebuilt with the new key and its rows copied.
CREATE TABLE identities_new (
    id          text NOT NULL PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    provider    text NOT NULL,
    issuer      text NOT NULL DEFAULT '',
    subject     text NOT NULL,
    email       text NOT NULL DEFAULT '',
    claims      json NOT NULL DEFAULT '{}',
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL,
    UNIQUE (tenant_id, provider, issuer, subject)
);
INSERT INTO identities_new (id, tenant_id, customer_id, provider, issuer, subject, email, claims, created_at, updated_at)
SELECT id, tenant_id, customer_id, provider,
    CASE
        WHEN provider IN ('oidc', 'apple') THEN COALESCE(NULLIF(json_extract(claims, '$.iss'), ''), provider)
        WHEN provider = 'oauth2' THEN COALESCE(
            (SELECT NULLIF(sp.token_url, '') FROM social_providers sp WHERE sp.tenant_id = identities.tenant_id AND sp.kind = 'oauth2'),
            provider)
        ELSE provider
    END,
    subject, email, claims, created_at, updated_at
FROM identities;
DROP TABLE identities;
ALTER TABLE identities_new RENAME TO identities;
CREATE INDEX identities_customer ON identities (tenant_id, customer_id);

-- +goose Down
CREATE TABLE identities_old (
    id          text NOT NULL PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    provider    text NOT NULL,
    subject     text NOT NULL,
    email       text NOT NULL DEFAULT '',
    claims      json NOT NULL DEFAULT '{}',
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL,
    UNIQUE (tenant_id, provider, subject)
);
INSERT OR IGNORE INTO identities_old (id, tenant_id, customer_id, provider, subject, email, claims, created_at, updated_at)
SELECT id, tenant_id, customer_id, provider, subject, email, claims, created_at, updated_at FROM identities ORDER BY id DESC;
DROP TABLE identities;
ALTER TABLE identities_old RENAME TO identities;
CREATE INDEX identities_customer ON identities (tenant_id, customer_id);
