-- +goose Up
-- Idempotency-Key records of the JSON API (app/api/idempotency.go). A POST
-- with a key is recorded here before it runs, keyed by tenant, app and key;
-- a retry with the same body gets the stored answer again, one with another
-- body is refused. status 0 means the first request is still running.
-- Records live for 24 hours.
CREATE TABLE api_idempotency (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id    text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL DEFAULT 0,
    header       jsonb NOT NULL DEFAULT '{}',
    body         bytea,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, client_id, key)
);
CREATE INDEX api_idempotency_expiry ON api_idempotency (expires_at);

-- +goose Down
DROP TABLE api_idempotency;
