-- +goose Up
-- A subject is unique only within the system that issued it: two brand
-- providers may both have a user "42". Identities are keyed by (tenant,
-- provider kind, issuer, subject), so a brand that points its OpenID app at
-- another provider does not hand the old customers' accounts to the new
-- provider's users with the same sub. issuer is the OpenID issuer for oidc
-- and apple (taken from the stored id_token claims), the token URL for
-- oauth2, and the kind for google, facebook and github.
ALTER TABLE identities ADD COLUMN issuer text NOT NULL DEFAULT '';
UPDATE identities SET issuer = CASE
    WHEN provider IN ('oidc', 'apple') THEN COALESCE(NULLIF(claims ->> 'iss', ''), provider)
    WHEN provider = 'oauth2' THEN COALESCE(
        (SELECT NULLIF(sp.token_url, '') FROM social_providers sp WHERE sp.tenant_id = identities.tenant_id AND sp.kind = 'oauth2'),
        provider)
    ELSE provider
END;
ALTER TABLE identities DROP CONSTRAINT identities_tenant_id_provider_subject_key;
ALTER TABLE identities ADD CONSTRAINT identities_tenant_id_provider_issuer_subject_key UNIQUE (tenant_id, provider, issuer, subject);

-- +goose Down
ALTER TABLE identities DROP CONSTRAINT identities_tenant_id_provider_issuer_subject_key;
DELETE FROM identities a USING identities b
    WHERE a.tenant_id = b.tenant_id AND a.provider = b.provider AND a.subject = b.subject AND a.id < b.id;
ALTER TABLE identities ADD CONSTRAINT identities_tenant_id_provider_subject_key UNIQUE (tenant_id, provider, subject);
ALTER TABLE identities DROP COLUMN issuer;
