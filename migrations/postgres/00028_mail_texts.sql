-- +goose Up
-- A tenant's own subject and intro for the mails it sends to customers
-- (app/console emails page). A mail kind without a row uses the default
-- text; "reset to default" deletes the row.
CREATE TABLE tenant_mail_texts (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    subject    text NOT NULL DEFAULT '',
    intro      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (tenant_id, kind)
);

-- +goose Down
DROP TABLE tenant_mail_texts;
