-- +goose Up
-- A tenant's own subject and intro for the mails it sends to customers
-- (app/console emails page). A mail kind without a row uses the default
-- text; "reset to default" deletes the row.
CREATE TABLE tenant_mail_texts (
    id         text NOT NULL PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    subject    text NOT NULL DEFAULT '',
    intro      text NOT NULL DEFAULT '',
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    UNIQUE (tenant_id, kind)
);

-- +goose Down
DROP TABLE tenant_mail_texts;
