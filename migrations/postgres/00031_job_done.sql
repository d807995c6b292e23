-- +goose Up
-- One row per asynq task whose effects are done: a mail handed to SMTP, a
-- forgot-password request whose mail row was written. A task asynq runs
-- again (a Redis failover lost its completion, a worker died after the
-- work) finds its row and does nothing, so duplicates of a task id are
-- suppressed here, in the database, whatever Redis forgot. Rows older than
-- a week are swept by the relay.
CREATE TABLE job_done (
    task_id   text PRIMARY KEY,
    task_type text NOT NULL,
    done_at   timestamptz NOT NULL
);
CREATE INDEX job_done_at ON job_done (done_at);
