-- +goose Up
-- The console's customers list sorts by sign-up and by last sign-in, both
-- ways, and pages by keyset on (key, id): these indexes make page 10,000
-- cost what page 1 does. A customer who never signed in sorts as
-- '-infinity', so the key has no NULLs and one row comparison pages it.
CREATE INDEX customers_created ON customers (tenant_id, created_at, id);
CREATE INDEX customers_last_login ON customers (tenant_id, (coalesce(last_login_at, '-infinity'::timestamptz)), id);

-- +goose Down
DROP INDEX customers_last_login;
DROP INDEX customers_created;
