-- +goose Up
-- See the PostgreSQL migration.
ALTER TABLE registration_fields ADD COLUMN claim text NOT NULL DEFAULT '';
ALTER TABLE registration_fields ADD COLUMN claim_scope text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE registration_fields DROP COLUMN claim_scope;
ALTER TABLE registration_fields DROP COLUMN claim;
