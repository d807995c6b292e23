-- +goose Up
-- Optional TOTP second factor for console staff (RFC 6238: 30-second steps,
-- 6 digits, SHA-1, as every authenticator app reads them). totp_secret is the
-- base32 secret sealed with the master key (app/secrets) under the context
-- "totp:<staff id>". It is pending while totp_enabled_at is NULL and in force
-- once a code confirmed it. totp_last_step is the last time step accepted:
-- only a later step passes, so a code cannot be used twice.
ALTER TABLE staff ADD COLUMN totp_secret text;
ALTER TABLE staff ADD COLUMN totp_enabled_at timestamptz;
ALTER TABLE staff ADD COLUMN totp_last_step bigint;

-- Ten recovery codes per enrolment, shown once and stored as SHA-256; each
-- is spent by one guarded UPDATE of used_at.
CREATE TABLE staff_recovery_codes (
    staff_id  uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (staff_id, code_hash)
);

-- +goose Down
DROP TABLE staff_recovery_codes;
ALTER TABLE staff DROP COLUMN totp_last_step;
ALTER TABLE staff DROP COLUMN totp_enabled_at;
ALTER TABLE staff DROP COLUMN totp_secret;
