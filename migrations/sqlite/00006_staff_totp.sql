-- +goose Up
-- See the PostgreSQL migration.
ALTER TABLE staff ADD COLUMN totp_secret text;
ALTER TABLE staff ADD COLUMN totp_enabled_at datetime;
ALTER TABLE staff ADD COLUMN totp_last_step integer;

CREATE TABLE staff_recovery_codes (
    staff_id  text NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    used_at   datetime,
    PRIMARY KEY (staff_id, code_hash)
);

-- +goose Down
DROP TABLE staff_recovery_codes;
ALTER TABLE staff DROP COLUMN totp_last_step;
ALTER TABLE staff DROP COLUMN totp_enabled_at;
ALTER TABLE staff DROP COLUMN totp_secret;
