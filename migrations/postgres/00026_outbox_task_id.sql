-- +goose Up
-- Every job a request starts now goes through job_outbox (issue 16). Some
-- of them need more than a row id: a campaign tick is queued under its own
-- task id (one per campaign and tick, however often it is asked for) and
-- runs at a set time.
ALTER TABLE job_outbox ADD COLUMN task_id text;
ALTER TABLE job_outbox ADD COLUMN process_at timestamptz;
