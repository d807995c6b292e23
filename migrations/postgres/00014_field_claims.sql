-- +goose Up
-- A registration field may be released to apps as a claim of its own
-- (claim), when the app asks for, and is granted, the scope named in
-- claim_scope. Both are empty for a field that is never released.
ALTER TABLE registration_fields ADD COLUMN claim text NOT NULL DEFAULT '';
ALTER TABLE registration_fields ADD COLUMN claim_scope text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE registration_fields DROP COLUMN claim_scope;
ALTER TABLE registration_fields DROP COLUMN claim;
