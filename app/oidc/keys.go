package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/app/apps"
	"gatehouse/app/secrets"
	"gatehouse/apperr"
)

// Key rotation timing. A key signs for RotationPeriod; its successor is
// published PublishLead before it starts signing, long enough for every
// relying party's JWKS cache to pick it up; a retired key stays published
// for RetainAfter, longer than any token it signed can live.
const (
	RotationPeriod = 30 * 24 * time.Hour
	PublishLead    = 2 * 24 * time.Hour
	RetainAfter    = apps.MaxTokenLifetime + time.Hour
	keyCacheTTL    = time.Minute
)

type keyRow struct {
	ID            string
	TenantID      uuid.UUID
	Alg           string
	Generation    int
	SealedPrivate string
	PublicJWK     []byte `gorm:"column:public_jwk"`
	CreatedAt     time.Time
	SignsFrom     time.Time
}

func (keyRow) TableName() string { return "signing_keys" }

// SigningKey is one tenant key as the provider uses it: the private half
// for signing, the public half for the JWKS.
type SigningKey struct {
	KID       string
	Alg       string
	SignsFrom time.Time
	Private   crypto.Signer
}

// Public is the key's public half as a JWK.
func (k *SigningKey) Public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.KID, Algorithm: k.Alg, Use: "sig"}
}

// Keys keeps and rotates the tenants' signing keys. Keys live in the
// database, so every node signs with and publishes the same ones; each node
// caches them for a minute, far less than PublishLead.
type Keys struct {
	db  *gorm.DB
	box *secrets.Box
	now func() time.Time

	mu    sync.Mutex
	cache map[cacheKey]cachedKeys
}

type cacheKey struct {
	tenant uuid.UUID
	alg    string
}

type cachedKeys struct {
	keys    []*SigningKey // by generation, oldest first
	fetched time.Time
}

// NewKeys returns the key store; private keys are sealed with box.
func NewKeys(db *gorm.DB, box *secrets.Box) *Keys {
	return &Keys{db: db, box: box, now: func() time.Time { return time.Now().UTC() }, cache: map[cacheKey]cachedKeys{}}
}

// Signing returns the key that signs the tenant's tokens with alg now,
// creating the first key, or the next one when it is due, on the way.
func (k *Keys) Signing(ctx context.Context, tenantID uuid.UUID, alg string) (*SigningKey, error) {
	keys, err := k.keys(ctx, tenantID, alg)
	if err != nil {
		return nil, err
	}
	now := k.now()
	var current *SigningKey
	for _, key := range keys {
		if !key.SignsFrom.After(now) {
			current = key
		}
	}
	if current == nil {
		return nil, apperr.New(apperr.Internal, "oidc: no signing key for %s", alg)
	}
	return current, nil
}

// Published returns every key a relying party may meet in a token of the
// tenant: the signing ones, the next ones and the retired ones still within
// RetainAfter. Algorithms that have never signed are not created here.
//
// Every tenant has ES256 keys, and a tenant that has RS256 keys keeps some,
// so only a tenant not yet known here to have RS256 keys costs a query:
// another node may just have made its first one, and the tokens it signs
// must verify here at once.
func (k *Keys) Published(ctx context.Context, tenantID uuid.UUID) ([]*SigningKey, error) {
	var out []*SigningKey
	for _, alg := range []string{apps.ES256, apps.RS256} {
		if alg != apps.ES256 && !k.hasCached(tenantID, alg) {
			var n int64
			if err := k.db.WithContext(ctx).Model(&keyRow{}).Where("tenant_id = ? AND alg = ?", tenantID, alg).Count(&n).Error; err != nil {
				return nil, apperr.Wrap(err, "oidc: count keys")
			}
			if n == 0 {
				continue
			}
		}
		keys, err := k.keys(ctx, tenantID, alg)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
	}
	return out, nil
}

// hasCached reports whether this node holds the tenant's keys for alg.
func (k *Keys) hasCached(tenantID uuid.UUID, alg string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.cache[cacheKey{tenantID, alg}].keys) > 0
}

// keys returns the tenant's live keys for alg, from the cache while it is
// fresh, after rotating and pruning as the schedule says.
func (k *Keys) keys(ctx context.Context, tenantID uuid.UUID, alg string) ([]*SigningKey, error) {
	if tenantID == uuid.Nil {
		return nil, apperr.New(apperr.Internal, "oidc: no tenant")
	}
	if alg != apps.ES256 && alg != apps.RS256 {
		return nil, apperr.New(apperr.Internal, "oidc: unknown algorithm %q", alg)
	}
	ck := cacheKey{tenantID, alg}
	now := k.now()
	k.mu.Lock()
	c, ok := k.cache[ck]
	k.mu.Unlock()
	if ok && now.Sub(c.fetched) < keyCacheTTL && now.Sub(c.fetched) >= 0 {
		return c.keys, nil
	}
	keys, err := k.rotate(ctx, tenantID, alg, now)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.cache[ck] = cachedKeys{keys: keys, fetched: now}
	k.mu.Unlock()
	return keys, nil
}

// rotate brings the tenant's keys for alg up to the schedule at now: a
// first key if there is none, the next one once the current one is within
// PublishLead of the end of its period, and no key whose successor has
// signed for longer than RetainAfter.
func (k *Keys) rotate(ctx context.Context, tenantID uuid.UUID, alg string, now time.Time) ([]*SigningKey, error) {
	rows, err := k.load(ctx, tenantID, alg)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		// The first key signs at once: nothing has been signed, so no
		// relying party can hold a stale JWKS.
		if err := k.create(ctx, tenantID, alg, 1, now, now); err != nil {
			return nil, err
		}
		return k.rotate(ctx, tenantID, alg, now)
	}
	newest := rows[len(rows)-1]
	if !now.Before(newest.SignsFrom.Add(RotationPeriod - PublishLead)) {
		signsFrom := newest.SignsFrom.Add(RotationPeriod)
		if earliest := now.Add(PublishLead); signsFrom.Before(earliest) {
			signsFrom = earliest
		}
		if err := k.create(ctx, tenantID, alg, newest.Generation+1, now, signsFrom); err != nil {
			return nil, err
		}
		if rows, err = k.load(ctx, tenantID, alg); err != nil {
			return nil, err
		}
	}
	// A key is retired once a later key has been signing for RetainAfter.
	var keep []keyRow
	for i, r := range rows {
		retired := false
		for _, later := range rows[i+1:] {
			if !later.SignsFrom.After(now.Add(-RetainAfter)) {
				retired = true
			}
		}
		if retired {
			if err := k.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, r.ID).Delete(&keyRow{}).Error; err != nil {
				return nil, apperr.Wrap(err, "oidc: prune key")
			}
			continue
		}
		keep = append(keep, r)
	}
	out := make([]*SigningKey, 0, len(keep))
	for _, r := range keep {
		key, err := k.open(r)
		if err != nil {
			return nil, err
		}
		out = append(out, key)
	}
	return out, nil
}

func (k *Keys) load(ctx context.Context, tenantID uuid.UUID, alg string) ([]keyRow, error) {
	var rows []keyRow
	if err := k.db.WithContext(ctx).Where("tenant_id = ? AND alg = ?", tenantID, alg).Order("generation").Find(&rows).Error; err != nil {
		return nil, apperr.Wrap(err, "oidc: load keys")
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Generation < rows[j].Generation })
	return rows, nil
}

// create makes generation gen of the tenant's alg key. Two nodes doing so
// at once collide on the unique generation and one insert is dropped.
func (k *Keys) create(ctx context.Context, tenantID uuid.UUID, alg string, gen int, now, signsFrom time.Time) error {
	var priv crypto.Signer
	var err error
	if alg == apps.RS256 {
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return apperr.Wrap(err, "oidc: generate key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return apperr.Wrap(err, "oidc: encode key")
	}
	kid := uuid.Must(uuid.NewV7()).String()
	sealed, err := k.box.Seal(base64.StdEncoding.EncodeToString(der), sealContext(tenantID, kid))
	if err != nil {
		return apperr.Wrap(err, "oidc: seal key")
	}
	key := &SigningKey{KID: kid, Alg: alg, Private: priv}
	pub, err := json.Marshal(key.Public())
	if err != nil {
		return apperr.Wrap(err, "oidc: encode public key")
	}
	r := keyRow{ID: kid, TenantID: tenantID, Alg: alg, Generation: gen, SealedPrivate: sealed, PublicJWK: pub, CreatedAt: now, SignsFrom: signsFrom}
	if err := k.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return apperr.Wrap(err, "oidc: store key")
	}
	return nil
}

func (k *Keys) open(r keyRow) (*SigningKey, error) {
	plain, err := k.box.Open(r.SealedPrivate, sealContext(r.TenantID, r.ID))
	if err != nil {
		return nil, apperr.Wrap(err, "oidc: open key %s", r.ID)
	}
	der, err := base64.StdEncoding.DecodeString(plain)
	if err != nil {
		return nil, apperr.Wrap(err, "oidc: decode key %s", r.ID)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, apperr.Wrap(err, "oidc: parse key %s", r.ID)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, apperr.Wrap(errors.New("not a signer"), "oidc: key %s", r.ID)
	}
	return &SigningKey{KID: r.ID, Alg: r.Alg, SignsFrom: r.SignsFrom, Private: signer}, nil
}

func sealContext(tenantID uuid.UUID, kid string) string {
	return "signing-key:" + tenantID.String() + ":" + kid
}

// ManualRotationLead is how long a key made by "rotate now" is published
// before it signs: longer than every node's key cache and the JWKS caches
// relying parties commonly keep, so no token is signed with a key its
// verifier has not seen.
const ManualRotationLead = 10 * time.Minute

// RotateNow starts a rotation at the admin's request, for every algorithm
// the tenant signs with: the next key is published at once and signs from
// ManualRotationLead on; the current key keeps signing until then and
// stays published until its tokens have expired. A key already waiting to
// sign is brought forward rather than joined by another.
func (k *Keys) RotateNow(ctx context.Context, tenantID uuid.UUID) error {
	if tenantID == uuid.Nil {
		return apperr.New(apperr.Internal, "oidc: no tenant")
	}
	now := k.now()
	signsFrom := now.Add(ManualRotationLead)
	for _, alg := range []string{apps.ES256, apps.RS256} {
		rows, err := k.load(ctx, tenantID, alg)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			if alg == apps.ES256 {
				// Nothing signed yet: the first key may sign at once.
				if err := k.create(ctx, tenantID, alg, 1, now, now); err != nil {
					return err
				}
			}
			continue
		}
		newest := rows[len(rows)-1]
		switch {
		case newest.SignsFrom.After(signsFrom):
			if err := k.db.WithContext(ctx).Model(&keyRow{}).Where("tenant_id = ? AND id = ?", tenantID, newest.ID).
				Update("signs_from", signsFrom).Error; err != nil {
				return apperr.Wrap(err, "oidc: bring key forward")
			}
		case newest.SignsFrom.After(now):
			// The next key is already published and due within the lead.
		default:
			if err := k.create(ctx, tenantID, alg, newest.Generation+1, now, signsFrom); err != nil {
				return err
			}
		}
	}
	k.mu.Lock()
	delete(k.cache, cacheKey{tenantID, apps.ES256})
	delete(k.cache, cacheKey{tenantID, apps.RS256})
	k.mu.Unlock()
	return nil
}

// Summary describes the tenant's published keys for the console, oldest
// first: which one signs now, which are next, which are retired.
func (k *Keys) Summary(ctx context.Context, tenantID uuid.UUID) ([]apps.KeyInfo, error) {
	keys, err := k.Published(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := k.now()
	out := make([]apps.KeyInfo, 0, len(keys))
	for i, key := range keys {
		state := apps.KeyRetired
		switch {
		case key.SignsFrom.After(now):
			state = apps.KeyNext
		case i == len(keys)-1 || keys[i+1].Alg != key.Alg || keys[i+1].SignsFrom.After(now):
			state = apps.KeySigning
		}
		out = append(out, apps.KeyInfo{KID: key.KID, Alg: key.Alg, SignsFrom: key.SignsFrom, State: state})
	}
	return out, nil
}
