-- +goose Up
CREATE TABLE registration_fields (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key        text NOT NULL,
    label      text NOT NULL,
    type       text NOT NULL,
    capture    text NOT NULL,
    help_text  text NOT NULL DEFAULT '',
    validation jsonb NOT NULL DEFAULT '{}',
    options    jsonb NOT NULL DEFAULT '[]',
    position   integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (tenant_id, key)
);

CREATE TABLE customers (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email             text NOT NULL,
    email_verified    boolean NOT NULL DEFAULT false,
    password_hash     text,
    status            text NOT NULL DEFAULT 'active',
    profile           jsonb NOT NULL DEFAULT '{}',
    profile_prompted_at timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    last_login_at     timestamptz,
    UNIQUE (tenant_id, email)
);

CREATE TABLE identities (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    provider    text NOT NULL,
    subject     text NOT NULL,
    email       text NOT NULL DEFAULT '',
    claims      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (tenant_id, provider, subject)
);
CREATE INDEX identities_customer ON identities (tenant_id, customer_id);

-- Customer and staff sessions. id is the SHA-256 of the cookie's token, so a
-- database leak yields no usable session. tenant_id is NULL for staff.
CREATE TABLE sessions (
    id           text PRIMARY KEY,
    kind         text NOT NULL,
    tenant_id    uuid REFERENCES tenants (id) ON DELETE CASCADE,
    subject_id   uuid NOT NULL,
    host         text NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    idle_seconds integer NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_subject ON sessions (kind, subject_id);

-- Reset, verification and invitation tokens, stored as a hash.
CREATE TABLE one_time_tokens (
    id         text PRIMARY KEY,
    tenant_id  uuid REFERENCES tenants (id) ON DELETE CASCADE,
    subject_id uuid NOT NULL,
    purpose    text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX one_time_tokens_subject ON one_time_tokens (subject_id, purpose);

CREATE TABLE audit_events (
    id        uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
    actor     text NOT NULL,
    action    text NOT NULL,
    target    text NOT NULL DEFAULT '',
    ip        text NOT NULL DEFAULT '',
    detail    jsonb NOT NULL DEFAULT '{}',
    at        timestamptz NOT NULL
);
CREATE INDEX audit_events_tenant_at ON audit_events (tenant_id, at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE one_time_tokens;
DROP TABLE sessions;
DROP TABLE identities;
DROP TABLE customers;
DROP TABLE registration_fields;
