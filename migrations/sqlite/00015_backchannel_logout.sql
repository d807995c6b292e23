-- +goose Up
-- See the PostgreSQL migration.
ALTER TABLE apps ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT '';
ALTER TABLE oidc_auth_requests ADD COLUMN sid text NOT NULL DEFAULT '';

CREATE TABLE oidc_session_apps (
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_id  text NOT NULL,
    app_id      text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    sid         text NOT NULL,
    issuer      text NOT NULL,
    created_at  datetime NOT NULL,
    PRIMARY KEY (tenant_id, session_id, app_id)
);

-- +goose Down
DROP TABLE oidc_session_apps;
ALTER TABLE oidc_auth_requests DROP COLUMN sid;
ALTER TABLE apps DROP COLUMN backchannel_logout_uri;
