-- +goose Up
-- Support staff search customers by email prefix or name prefix. Byte order
-- (COLLATE "C") makes a prefix an index range whatever the database's
-- locale; search_name is the lower-cased first and last name, kept by the
-- database so every writer (sign-up, console, imports) maintains it.
ALTER TABLE customers ADD COLUMN search_name text GENERATED ALWAYS AS (
    lower(trim(coalesce(profile->>'first_name', '') || ' ' || coalesce(profile->>'last_name', '')))
) STORED;
CREATE INDEX customers_email_prefix ON customers (tenant_id, email COLLATE "C", id);
CREATE INDEX customers_name_prefix ON customers (tenant_id, search_name COLLATE "C", id);

-- +goose Down
DROP INDEX customers_name_prefix;
DROP INDEX customers_email_prefix;
ALTER TABLE customers DROP COLUMN search_name;
