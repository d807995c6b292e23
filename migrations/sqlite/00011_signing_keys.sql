-- +goose Up
-- See the PostgreSQL migration.
CREATE TABLE signing_keys (
    id             text NOT NULL PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    alg            text NOT NULL,
    generation     integer NOT NULL,
    sealed_private text NOT NULL,
    public_jwk     json NOT NULL,
    created_at     datetime NOT NULL,
    signs_from     datetime NOT NULL,
    UNIQUE (tenant_id, alg, generation)
);

-- +goose Down
DROP TABLE signing_keys;
