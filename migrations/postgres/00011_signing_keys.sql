-- +goose Up
-- Each tenant's token signing keys. The private key is sealed under the
-- master key (bound to the tenant and kid), so a database dump signs nothing.
-- A key is published in the JWKS from created_at, signs from signs_from until
-- the next generation's signs_from, and stays published until every token it
-- signed has expired. Every node reads the same rows, so every node serves
-- the same JWKS; (tenant_id, alg, generation) is unique so two nodes rotating
-- at once make one key.
CREATE TABLE signing_keys (
    id             text PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    alg            text NOT NULL,
    generation     integer NOT NULL,
    sealed_private text NOT NULL,
    public_jwk     jsonb NOT NULL,
    created_at     timestamptz NOT NULL,
    signs_from     timestamptz NOT NULL,
    UNIQUE (tenant_id, alg, generation)
);

-- +goose Down
DROP TABLE signing_keys;
