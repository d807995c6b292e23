-- +goose Up
-- See the PostgreSQL migration. SQLite compares text bytewise by default.
ALTER TABLE customers ADD COLUMN search_name text GENERATED ALWAYS AS (
    lower(trim(coalesce(json_extract(profile, '$.first_name'), '') || ' ' || coalesce(json_extract(profile, '$.last_name'), '')))
) VIRTUAL;
CREATE INDEX customers_email_prefix ON customers (tenant_id, email, id);
CREATE INDEX customers_name_prefix ON customers (tenant_id, search_name, id);

-- +goose Down
DROP INDEX customers_name_prefix;
DROP INDEX customers_email_prefix;
ALTER TABLE customers DROP COLUMN search_name;
