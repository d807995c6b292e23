-- +goose Up
-- Ending all of a customer's sessions at once (disabled, signed out
-- everywhere, deleted, a new password) finds the apps their sessions
-- signed in to by customer; the customers' ON DELETE CASCADE uses it too.
CREATE INDEX oidc_session_apps_customer ON oidc_session_apps (customer_id);

-- +goose Down
DROP INDEX oidc_session_apps_customer;
