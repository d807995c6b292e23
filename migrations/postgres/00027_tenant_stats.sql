-- +goose Up
-- The console overview's figures (issue 14), kept so that a page view
-- reads a few dozen rows instead of scanning customers or audit_events.
--
-- stats_daily counts, per tenant and UTC day (YYYY-MM-DD), sign-ups,
-- sign-ins and failed sign-ins by method. Nothing on the sign-in path
-- writes it: a rollup folds the tenant's audit events into it, in the
-- same transaction that moves the tenant's watermark (stats_tenants).
CREATE TABLE stats_daily (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day       text NOT NULL,
    metric    text NOT NULL,
    method    text NOT NULL DEFAULT '',
    n         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, metric, method)
);

-- stats_tenants holds, per tenant, the last audit event folded into
-- stats_daily (watermark, a UUIDv7), and the customer figures counted in
-- the background: customers in all and, per registration field key, how
-- many customers have a value (fields, a JSON object), as of counted_at.
CREATE TABLE stats_tenants (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    watermark  uuid NOT NULL,
    customers  bigint NOT NULL DEFAULT 0,
    fields     jsonb NOT NULL DEFAULT '{}',
    counted_at timestamptz,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE stats_tenants;
DROP TABLE stats_daily;
