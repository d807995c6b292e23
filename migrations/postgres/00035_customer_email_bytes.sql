-- +goose Up
-- Every customer row kept two B-tree indexes on its email: the unique
-- (tenant_id, email) in the database's collation, for look-ups, and
-- customers_email_prefix (tenant_id, email COLLATE "C", id), for prefix
-- search in byte order. With the column itself in byte order ("C"), the
-- unique index serves both: an equality look-up, a prefix range and the
-- search's order (its id tie-break costs an incremental sort of single
-- rows, since an email is unique in its tenant). Equality, and so
-- uniqueness, is the same in every deterministic collation, so no row
-- changes meaning. One index fewer is about a tenth of what inserting a
-- customer costs PostgreSQL, which is most of what a bulk import costs
-- (docs/benchmarks.md, Bulk import).
ALTER TABLE customers ALTER COLUMN email TYPE text COLLATE "C";
DROP INDEX customers_email_prefix;

-- +goose Down
CREATE INDEX customers_email_prefix ON customers (tenant_id, email COLLATE "C", id);
ALTER TABLE customers ALTER COLUMN email TYPE text COLLATE "default";
