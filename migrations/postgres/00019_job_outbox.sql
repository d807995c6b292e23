-- +goose Up
-- The transactional job outbox. A feature that must not lose a job (a
-- webhook for a change that committed) writes the row in the same
-- transaction as the change; the relay on every node moves it to asynq with
-- the row id as the asynq task id and deletes it only once asynq has it.
-- A rolled-back change leaves no row, so no job.
CREATE TABLE job_outbox (
    id              uuid PRIMARY KEY,
    tenant_id       uuid REFERENCES tenants (id) ON DELETE CASCADE,
    task_type       text NOT NULL,
    payload         bytea NOT NULL,
    queue           text NOT NULL,
    max_retry       integer NOT NULL DEFAULT 0,
    timeout_seconds integer NOT NULL DEFAULT 60,
    created_at      timestamptz NOT NULL
);
CREATE INDEX job_outbox_created ON job_outbox (created_at);
