-- +goose Up
-- The declared foreign key customers.tenant_id → tenants runs one query per
-- inserted row (SELECT 1 FROM tenants … FOR KEY SHARE), about 40% of what
-- inserting a customer costs PostgreSQL, and a bulk import inserts 5,000
-- customers per statement (docs/benchmarks.md, Bulk import). The same
-- guarantees, kept by triggers that work per statement instead:
--
-- * an insert's tenants must exist: one look-up of the statement's distinct
--   tenants, locked FOR KEY SHARE as the foreign key locks them, so a
--   concurrent tenant delete waits for the insert to commit (and then
--   removes its customers) or, if it came first, makes the insert fail;
-- * a customer never moves to another tenant (the foreign key allowed a
--   move to an existing tenant; nothing in Gatehouse ever does it);
-- * deleting a tenant deletes its customers, as ON DELETE CASCADE did, and
--   with them, by their own foreign keys, everything that hangs off them.
--
-- The error keeps the constraint's name and SQLSTATE 23503, so a violation
-- reads as the foreign key's did.

-- +goose StatementBegin
CREATE FUNCTION customers_tenant_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted integer;
    found  integer;
BEGIN
    SELECT count(DISTINCT tenant_id) INTO wanted FROM inserted;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM tenants WHERE id IN (SELECT tenant_id FROM inserted) FOR KEY SHARE
    ) AS locked;
    IF found < wanted THEN
        RAISE EXCEPTION 'insert or update on table "customers" violates foreign key constraint "customers_tenant_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'customers_tenant_id_fkey',
                  TABLE = 'customers', DETAIL = 'Key (tenant_id) is not present in table "tenants".';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION customers_tenant_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a customer cannot move to another tenant'
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'customers_tenant_id_fkey', TABLE = 'customers';
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tenants_delete_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customers WHERE tenant_id = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

ALTER TABLE customers DROP CONSTRAINT customers_tenant_id_fkey;

CREATE TRIGGER customers_tenant_exists AFTER INSERT ON customers
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION customers_tenant_exists();

CREATE TRIGGER customers_tenant_fixed BEFORE UPDATE OF tenant_id ON customers
    FOR EACH ROW WHEN (NEW.tenant_id IS DISTINCT FROM OLD.tenant_id)
    EXECUTE FUNCTION customers_tenant_fixed();

CREATE TRIGGER tenants_delete_customers AFTER DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_delete_customers();

-- +goose Down
DROP TRIGGER tenants_delete_customers ON tenants;
DROP TRIGGER customers_tenant_fixed ON customers;
DROP TRIGGER customers_tenant_exists ON customers;
DROP FUNCTION tenants_delete_customers();
DROP FUNCTION customers_tenant_fixed();
DROP FUNCTION customers_tenant_exists();
ALTER TABLE customers ADD CONSTRAINT customers_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
