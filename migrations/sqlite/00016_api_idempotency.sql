-- +goose Up
-- See the PostgreSQL migration.
CREATE TABLE api_idempotency (
    tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id    text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL DEFAULT 0,
    header       json NOT NULL DEFAULT '{}',
    body         blob,
    created_at   datetime NOT NULL,
    expires_at   datetime NOT NULL,
    PRIMARY KEY (tenant_id, client_id, key)
);
CREATE INDEX api_idempotency_expiry ON api_idempotency (expires_at);

-- +goose Down
DROP TABLE api_idempotency;
