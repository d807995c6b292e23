package oidc_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"gatehouse/app/apps"
	"gatehouse/app/apptest"
	"gatehouse/app/db"
	"gatehouse/app/oidc"
	"gatehouse/app/secrets"
	"gatehouse/tenants"
)

func mustTenant(t *testing.T, d *db.DB, slug string) uuid.UUID {
	t.Helper()
	svc := tenants.NewService(tenants.NewStore(d.Gorm), nil, "localhost", slog.New(slog.NewTextHandler(io.Discard, nil)))
	tn, err := svc.Create(context.Background(), tenants.NewTenant{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

func mustBox(t *testing.T) *secrets.Box {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func jwks(t *testing.T, k *oidc.Keys, tenant uuid.UUID) jose.JSONWebKeySet {
	t.Helper()
	keys, err := k.Published(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	for _, key := range keys {
		set.Keys = append(set.Keys, key.Public())
	}
	return set
}

func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func sign(t *testing.T, key *oidc.SigningKey) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Alg), Key: jose.JSONWebKey{Key: key.Private, KeyID: key.KID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"sub":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// verify checks token against the published set the way a relying party
// does: pick the key by kid, check the signature.
func verify(set jose.JSONWebKeySet, token string) bool {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return false
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		return false
	}
	_, err = jws.Verify(keys[0].Key)
	return err == nil
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	box := mustBox(t)
	acme, bravo := mustTenant(t, d, "acme"), mustTenant(t, d, "bravo")
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	node1, node2 := oidc.NewKeys(d.Gorm, box), oidc.NewKeys(d.Gorm, box)
	oidc.SetKeysClock(node1, clock)
	oidc.SetKeysClock(node2, clock)
	step := func(to time.Time) { now = to.Add(2 * time.Minute) } // past the node caches

	first, err := node1.Signing(ctx, acme, apps.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if first.Alg != "ES256" {
		t.Fatalf("default alg %s", first.Alg)
	}
	old := sign(t, first)
	if !verify(jwks(t, node2, acme), old) {
		t.Fatal("another node's JWKS does not verify the token")
	}

	t.Run("the next key is published before it signs", func(t *testing.T) {
		step(first.SignsFrom.Add(oidc.RotationPeriod - oidc.PublishLead))
		set := jwks(t, node1, acme)
		if len(set.Keys) != 2 {
			t.Fatalf("JWKS has %d keys during the lead time, want 2", len(set.Keys))
		}
		signing, err := node1.Signing(ctx, acme, apps.ES256)
		if err != nil || signing.KID != first.KID {
			t.Fatalf("the next key signs before its time: %v", err)
		}
		if !slices.Equal(kids(jwks(t, node2, acme)), kids(set)) {
			t.Fatal("the nodes publish different keys")
		}
	})

	var second *oidc.SigningKey
	t.Run("after rotation old tokens still verify", func(t *testing.T) {
		step(first.SignsFrom.Add(oidc.RotationPeriod))
		second, err = node2.Signing(ctx, acme, apps.ES256)
		if err != nil || second.KID == first.KID {
			t.Fatalf("no rotation: %v", err)
		}
		set := jwks(t, node1, acme)
		if !verify(set, old) || !verify(set, sign(t, second)) {
			t.Fatal("a token signed before the rotation no longer verifies")
		}
	})

	t.Run("a retired key leaves the JWKS once its tokens have expired", func(t *testing.T) {
		step(second.SignsFrom.Add(oidc.RetainAfter))
		set := jwks(t, node1, acme)
		if slices.Contains(kids(set), first.KID) {
			t.Fatal("the retired key is still published")
		}
		if !slices.Contains(kids(set), second.KID) {
			t.Fatal("the signing key is not published")
		}
	})

	t.Run("other tenant", func(t *testing.T) {
		b, err := node1.Signing(ctx, bravo, apps.ES256)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(kids(jwks(t, node1, acme)), b.KID) || slices.Contains(kids(jwks(t, node1, bravo)), second.KID) {
			t.Fatal("tenants share keys")
		}
		if verify(jwks(t, node1, bravo), sign(t, second)) {
			t.Fatal("acme's token verifies against bravo's JWKS")
		}
	})

	t.Run("RS256 on request, and sealed at rest", func(t *testing.T) {
		rs, err := node1.Signing(ctx, acme, apps.RS256)
		if err != nil || rs.Alg != "RS256" {
			t.Fatalf("RS256: %v", err)
		}
		if !slices.Contains(kids(jwks(t, node2, acme)), rs.KID) {
			t.Fatal("the RS256 key is not published")
		}
		other := oidc.NewKeys(d.Gorm, mustBox(t))
		oidc.SetKeysClock(other, clock)
		if _, err := other.Signing(ctx, acme, apps.RS256); err == nil {
			t.Fatal("keys open under another master key")
		}
	})
}

// "Rotate now" publishes the next key at once and lets it sign only after
// ManualRotationLead; tokens of the old key verify until they expire.
func TestKeyRotateNow(t *testing.T) {
	ctx := context.Background()
	d := apptest.MigratedDB(t)
	box := mustBox(t)
	acme, bravo := mustTenant(t, d, "acme"), mustTenant(t, d, "bravo")
	now := time.Now().UTC()
	k := oidc.NewKeys(d.Gorm, box)
	oidc.SetKeysClock(k, func() time.Time { return now })
	first, err := k.Signing(ctx, acme, apps.ES256)
	if err != nil {
		t.Fatal(err)
	}
	bravoKey, err := k.Signing(ctx, bravo, apps.ES256)
	if err != nil {
		t.Fatal(err)
	}
	old := sign(t, first)

	if err := k.RotateNow(ctx, acme); err != nil {
		t.Fatal(err)
	}
	set := jwks(t, k, acme)
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS after rotate now: %v", kids(set))
	}
	if s, _ := k.Signing(ctx, acme, apps.ES256); s.KID != first.KID {
		t.Fatal("the new key signs before it has been published for the lead time")
	}
	sum, err := k.Summary(ctx, acme)
	if err != nil || len(sum) != 2 || sum[0].State != apps.KeySigning || sum[1].State != apps.KeyNext {
		t.Fatalf("summary %+v %v", sum, err)
	}
	t.Run("twice makes no second pending key", func(t *testing.T) {
		if err := k.RotateNow(ctx, acme); err != nil {
			t.Fatal(err)
		}
		if n := len(jwks(t, k, acme).Keys); n != 2 {
			t.Fatalf("%d keys after a second rotate now", n)
		}
	})
	t.Run("other tenant untouched", func(t *testing.T) {
		if got := kids(jwks(t, k, bravo)); len(got) != 1 || got[0] != bravoKey.KID {
			t.Fatalf("bravo's keys %v", got)
		}
	})
	now = now.Add(oidc.ManualRotationLead + time.Second)
	next, err := k.Signing(ctx, acme, apps.ES256)
	if err != nil || next.KID == first.KID {
		t.Fatalf("the new key does not sign after the lead: %v", err)
	}
	if set := jwks(t, k, acme); !verify(set, old) || !verify(set, sign(t, next)) {
		t.Fatal("a token of the old key stopped verifying at the rotation")
	}
	now = now.Add(oidc.RetainAfter + 2*time.Minute)
	if slices.Contains(kids(jwks(t, k, acme)), first.KID) {
		t.Fatal("the old key outlived its tokens")
	}
}
