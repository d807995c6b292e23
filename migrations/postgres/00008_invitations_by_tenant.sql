-- +goose Up
-- A tenant's staff page lists its pending invitations: staff_invite rows of
-- one_time_tokens, which also hold every customer's reset and verification
-- links, so they are found by tenant and purpose rather than by a scan.
CREATE INDEX one_time_tokens_tenant_purpose ON one_time_tokens (tenant_id, purpose);

-- +goose Down
DROP INDEX one_time_tokens_tenant_purpose;
