-- +goose Up
-- See the PostgreSQL migration. SQLite stores times as text, so a customer
-- who never signed in sorts as '' (below every time).
CREATE INDEX customers_created ON customers (tenant_id, created_at, id);
CREATE INDEX customers_last_login ON customers (tenant_id, coalesce(last_login_at, ''), id);

-- +goose Down
DROP INDEX customers_last_login;
DROP INDEX customers_created;
