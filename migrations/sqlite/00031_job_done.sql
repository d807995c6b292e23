-- +goose Up
-- See the PostgreSQL migration.
CREATE TABLE job_done (
    task_id   text NOT NULL PRIMARY KEY,
    task_type text NOT NULL,
    done_at   datetime NOT NULL
);
CREATE INDEX job_done_at ON job_done (done_at);
