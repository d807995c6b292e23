-- +goose Up
-- See the PostgreSQL migration.
CREATE TABLE job_outbox (
    id              text NOT NULL PRIMARY KEY,
    tenant_id       text REFERENCES tenants (id) ON DELETE CASCADE,
    task_type       text NOT NULL,
    payload         blob NOT NULL,
    queue           text NOT NULL,
    max_retry       integer NOT NULL DEFAULT 0,
    timeout_seconds integer NOT NULL DEFAULT 60,
    created_at      datetime NOT NULL
);
CREATE INDEX job_outbox_created ON job_outbox (created_at);
