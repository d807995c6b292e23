-- +goose Up
-- A refresh is looked up by tenant_id and token_hash, then rotated by
-- tenant_id and id. The family and customer indexes led with tenant_id, so
-- with no statistics yet (a new table, or autovacuum off, as on CI's
-- PostgreSQL) the planner costed "tenant_id = $1" on them the same as the
-- unique token_hash and primary keys, and the generic plan pgx's prepared
-- statements settle on after five runs scanned every refresh token of the
-- tenant on each refresh: a refresh grew slower with every token issued
-- (docs/benchmarks.md, OpenID Provider). Led by family_id and customer_id,
-- no index but the exact one matches those lookups, whatever the
-- statistics; the tenant predicate stays in every query as a filter.
-- customer_id first also serves the cascade from customers, and expires_at
-- the sweep (tenant_id = ? AND expires_at < ?).
DROP INDEX oidc_refresh_tokens_family;
DROP INDEX oidc_refresh_tokens_customer;
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (family_id);
CREATE INDEX oidc_refresh_tokens_customer ON oidc_refresh_tokens (customer_id);
CREATE INDEX oidc_refresh_tokens_expiry ON oidc_refresh_tokens (expires_at);

-- +goose Down
DROP INDEX oidc_refresh_tokens_expiry;
DROP INDEX oidc_refresh_tokens_customer;
DROP INDEX oidc_refresh_tokens_family;
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (tenant_id, family_id);
CREATE INDEX oidc_refresh_tokens_customer ON oidc_refresh_tokens (tenant_id, customer_id);
