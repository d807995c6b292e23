-- +goose Up
-- Audit events say which device they came from (issue 14): the console
-- shows "Chrome on macOS" beside the address.
ALTER TABLE audit_events ADD COLUMN user_agent text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_events DROP COLUMN user_agent;
