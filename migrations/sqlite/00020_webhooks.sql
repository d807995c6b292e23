-- +goose Up
-- See the PostgreSQL migration.
CREATE TABLE webhook_endpoints (
    id                  text NOT NULL PRIMARY KEY,
    tenant_id           text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                 text NOT NULL,
    description         text NOT NULL DEFAULT '',
    events              text NOT NULL,
    secret_sealed       text NOT NULL,
    previous_sealed     text,
    previous_expires_at datetime,
    enabled             boolean NOT NULL DEFAULT true,
    disabled_reason     text NOT NULL DEFAULT '',
    failing_since       datetime,
    created_at          datetime NOT NULL,
    updated_at          datetime NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, enabled);

CREATE TABLE webhook_events (
    id         text NOT NULL PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type       text NOT NULL,
    body       blob NOT NULL,
    created_at datetime NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              text NOT NULL PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id     text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        text NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    response_status integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    last_attempt_at datetime,
    created_at      datetime NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at);
