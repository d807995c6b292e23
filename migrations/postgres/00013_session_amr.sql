-- +goose Up
-- How the customer proved who they are when the session began, as RFC 8176
-- authentication method references separated by spaces ("pwd", "fed"). The
-- OpenID Provider reports it as the id_token's amr. Sessions made before
-- this column existed have none, and report none.
ALTER TABLE sessions ADD COLUMN amr text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sessions DROP COLUMN amr;
