-- +goose Up
-- A tenant's webhook endpoints. The signing secret is sealed under
-- webhook-secret:<endpoint id>; during a rotation the previous one signs
-- too until previous_expires_at. failing_since is the first failed attempt
-- since the last success: after 24 h of nothing but failures the endpoint
-- is disabled.
CREATE TABLE webhook_endpoints (
    id                  uuid PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                 text NOT NULL,
    description         text NOT NULL DEFAULT '',
    events              text NOT NULL,
    secret_sealed       text NOT NULL,
    previous_sealed     text,
    previous_expires_at timestamptz,
    enabled             boolean NOT NULL DEFAULT true,
    disabled_reason     text NOT NULL DEFAULT '',
    failing_since       timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, enabled);

-- One event as it will be sent: the body is fixed when the change commits,
-- so every attempt and every resend carries the same bytes and webhook-id.
CREATE TABLE webhook_events (
    id         text PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type       text NOT NULL,
    body       bytea NOT NULL,
    created_at timestamptz NOT NULL
);

-- One event to one endpoint (a resend is a new row): the delivery log.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        text NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    response_status integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    last_attempt_at timestamptz,
    created_at      timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at);
