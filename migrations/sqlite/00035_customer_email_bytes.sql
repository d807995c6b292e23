-- +goose Up
-- PostgreSQL puts customers.email in byte order and drops its second email
-- index (see the PostgreSQL migration). SQLite compares text bytewise
-- already and its search plans rest on customers_email_prefix, so nothing
-- changes here.
SELECT 1;

-- +goose Down
SELECT 1;
