-- +goose Up
-- One uploaded file and what is being done with it. The file itself is in
-- import_chunks, so a worker on any machine can read it. status is the
-- console's: staging, ready, queued, running, paused, cancelled, failed,
-- done. run counts the passes (dry runs and the real run) over the file;
-- per-pass state in the other tables carries it, so a new pass needs no
-- clean-up first.
CREATE TABLE import_jobs (
    id          text NOT NULL PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    file_name   text NOT NULL,
    format      text NOT NULL,
    dialect     json NOT NULL DEFAULT '{}',
    size_bytes  integer NOT NULL DEFAULT 0,
    rows_total  integer NOT NULL DEFAULT 0,
    chunks      integer NOT NULL DEFAULT 0,
    mapping     json NOT NULL DEFAULT '{}',
    status      text NOT NULL,
    phase       text NOT NULL DEFAULT '',
    dry_run     boolean NOT NULL DEFAULT false,
    run         integer NOT NULL DEFAULT 0,
    attempt     integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    result      json NOT NULL DEFAULT '{}',
    created_by  text NOT NULL DEFAULT '',
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL,
    started_at  datetime,
    finished_at datetime
);
CREATE INDEX import_jobs_tenant ON import_jobs (tenant_id, created_at);

-- The file, cut at row boundaries. scanned_run and applied_run say which
-- pass has finished the chunk; the counts are that pass's.
CREATE TABLE import_chunks (
    job_id      text NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    tenant_id   text NOT NULL,
    first_line  integer NOT NULL,
    row_count   integer NOT NULL,
    data        blob NOT NULL,
    scanned_run integer NOT NULL DEFAULT 0,
    applied_run integer NOT NULL DEFAULT 0,
    created     integer NOT NULL DEFAULT 0,
    updated     integer NOT NULL DEFAULT 0,
    skipped     integer NOT NULL DEFAULT 0,
    rejected    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, seq)
);

-- Every row's normalised email, per pass, to find addresses the file holds
-- more than once before anything is written. No foreign key on tenant_id
-- here or in import_chunks and import_errors: the job's own cascades, and
-- a million key rows should not pay a million tenant lookups.
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

-- Rejected rows, per pass: the error report. raw is the row as the file
-- had it (a JSON array of CSV values, or the JSON line).
CREATE TABLE import_errors (
    job_id    text NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    run       integer NOT NULL,
    line      integer NOT NULL,
    tenant_id text NOT NULL,
    col       text NOT NULL DEFAULT '',
    reason    text NOT NULL,
    raw       text NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, run, line)
);

-- Mappings saved by name for the next file of the same shape.
CREATE TABLE import_mappings (
    id         text NOT NULL PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       text NOT NULL,
    mapping    json NOT NULL,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    UNIQUE (tenant_id, name)
);

-- "Set your password" campaigns for imported customers without one.
CREATE TABLE password_campaigns (
    id              text NOT NULL PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    status          text NOT NULL,
    rate_per_minute integer NOT NULL,
    remind_after_days integer NOT NULL DEFAULT 0,
    recipients      integer NOT NULL DEFAULT 0,
    tick            integer NOT NULL DEFAULT 0,
    created_by      text NOT NULL DEFAULT '',
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL,
    finished_at     datetime
);
CREATE INDEX password_campaigns_tenant ON password_campaigns (tenant_id, created_at);

CREATE TABLE password_campaign_recipients (
    campaign_id text NOT NULL REFERENCES password_campaigns (id) ON DELETE CASCADE,
    customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email       text NOT NULL,
    sent_at     datetime,
    reminded_at datetime,
    used_at     datetime,
    PRIMARY KEY (campaign_id, customer_id)
);
CREATE INDEX password_campaign_recipients_customer ON password_campaign_recipients (tenant_id, customer_id);

-- +goose Down
DROP TABLE password_campaign_recipients;
DROP TABLE password_campaigns;
DROP TABLE import_mappings;
DROP TABLE import_errors;
DROP TABLE import_keys;
DROP TABLE import_chunks;
DROP TABLE import_jobs;
