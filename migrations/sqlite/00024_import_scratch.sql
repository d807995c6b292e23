-- +goose Up
-- Imports keep their scratch in tables of their own, created per job and
-- dropped when it ends (app/imports/scratch.go): a DROP frees the space at
-- once, where a DELETE leaves dead rows that only VACUUM reclaims. So the
-- shared table of every pass's keys goes, and with it whatever it held.
-- scan_keys is how many emails a chunk's scan wrote, so the dedup step can
-- tell a complete scan from an unlogged table PostgreSQL emptied in a crash.
DROP TABLE import_keys;
ALTER TABLE import_chunks ADD COLUMN scan_keys integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE import_chunks DROP COLUMN scan_keys;
CREATE TABLE import_keys (
    job_id    text NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    run       integer NOT NULL,
    line      integer NOT NULL,
    tenant_id text NOT NULL,
    email     text NOT NULL,
    dup_first integer,
    dup_count integer,
    PRIMARY KEY (job_id, run, line)
);
