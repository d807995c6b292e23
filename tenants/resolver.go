package tenants

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"gatehouse/apperr"
)

// Lookup is what the resolver needs from the store: a tenant on a cache
// miss, and the list of every host any tenant answers on.
type Lookup interface {
	BySlug(ctx context.Context, slug string) (*Tenant, error)
	ByDomain(ctx context.Context, hostname string) (*Tenant, error)
	EachHost(ctx context.Context, id uuid.UUID, fn func(tenantID uuid.UUID, slug, domain string)) error
	HostsVersion(ctx context.Context) (string, error)
}

// ResolverOptions tune the cache. Pub/sub makes changes visible at once; the
// TTLs bound how stale a node can be if it misses a message.
type ResolverOptions struct {
	TTL         time.Duration // how long a found tenant is trusted (default 60s)
	NegativeTTL time.Duration // how long "no such host" is trusted (default 2s)
	MaxNegative int           // cap on remembered unknown hosts (default 10,000)
}

// Resolver maps a request's Host header to its tenant through an in-process
// cache, so the hot path is one map read under a read lock.
//
// Once LoadHosts has run it also holds the set of every known host (each
// tenant's slug host and verified domain), kept current by the bus. A host
// outside that set is answered "no such tenant" with no query, so a flood
// of invented Host headers costs map lookups, not database work. Before the
// first load (or if it failed) every miss asks the store, as it always did.
type Resolver struct {
	lookup     Lookup
	baseSuffix string // "." + base domain
	opts       ResolverOptions
	now        func() time.Time

	mu        sync.RWMutex
	hosts     map[string]entry
	negatives int
	// lastGood is the last tenant found for each host, kept across
	// ForgetAll: when the database cannot be reached, Resolve answers
	// with it, so the host still shows its brand (a themed 503) rather
	// than a neutral page. Forget drops a changed tenant's entries.
	lastGood map[string]*Tenant
	flight   singleflight.Group

	known   map[string]uuid.UUID // every host a tenant answers on, to its tenant; nil until loaded
	loadMu  sync.Mutex           // one load or refresh of the known set at a time
	version string               // the store's HostsVersion read before the last full load
}

type entry struct {
	tenant  *Tenant // nil: the host serves no tenant
	expires int64   // unix nanoseconds
}

// NewResolver returns a resolver for <slug>.<baseDomain> and custom domains.
func NewResolver(lookup Lookup, baseDomain string, opts ResolverOptions) *Resolver {
	if opts.TTL <= 0 {
		opts.TTL = time.Minute
	}
	if opts.NegativeTTL <= 0 {
		opts.NegativeTTL = 2 * time.Second
	}
	if opts.MaxNegative <= 0 {
		opts.MaxNegative = 10_000
	}
	return &Resolver{
		lookup: lookup, baseSuffix: "." + baseDomain, opts: opts, now: time.Now,
		hosts: make(map[string]entry),
	}
}

// Resolve returns the tenant that host serves, or a NotFound error. The port
// in host is ignored. A suspended tenant is returned as it is: the caller
// decides what a suspended tenant's host shows.
func (r *Resolver) Resolve(ctx context.Context, host string) (*Tenant, error) {
	key := NormalizeHost(host)
	if key == "" {
		return nil, errNoTenant
	}
	now := r.now().UnixNano()
	r.mu.RLock()
	e, ok := r.hosts[key]
	_, known := r.known[key]
	complete := r.known != nil
	r.mu.RUnlock()
	if ok && now < e.expires {
		if e.tenant == nil {
			return nil, errNoTenant
		}
		return e.tenant, nil
	}
	if complete && !known {
		return nil, errNoTenant
	}
	v, err, _ := r.flight.Do(key, func() (any, error) { return r.load(ctx, key) })
	if err != nil {
		if apperr.Unreachable(err) {
			r.mu.RLock()
			stale := r.lastGood[key]
			r.mu.RUnlock()
			if stale != nil {
				return stale, nil
			}
		}
		return nil, err
	}
	t := v.(*Tenant)
	if t == nil {
		return nil, errNoTenant
	}
	return t, nil
}

var errNoTenant = apperr.New(apperr.NotFound, "page not found")

// load asks the store and caches the answer, found or not.
func (r *Resolver) load(ctx context.Context, key string) (*Tenant, error) {
	var (
		t   *Tenant
		err error
	)
	if slug, ok := strings.CutSuffix(key, r.baseSuffix); ok {
		if strings.Contains(slug, ".") || ValidateSlug(slug) != nil {
			return r.remember(key, nil), nil
		}
		t, err = r.lookup.BySlug(ctx, slug)
	} else {
		t, err = r.lookup.ByDomain(ctx, key)
	}
	if apperr.Is(err, apperr.NotFound) {
		return r.remember(key, nil), nil
	}
	if err != nil {
		return nil, err
	}
	return r.remember(key, t), nil
}

func (r *Resolver) remember(key string, t *Tenant) *Tenant {
	ttl := r.opts.TTL
	if t == nil {
		ttl = r.opts.NegativeTTL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t == nil {
		// Unknown hosts are free for anyone to invent; cap them so a flood
		// of random Host headers cannot grow the map without bound.
		if r.negatives >= r.opts.MaxNegative {
			r.dropNegatives()
		}
		if old, ok := r.hosts[key]; !ok || old.tenant != nil {
			r.negatives++
		}
	} else {
		if old, ok := r.hosts[key]; ok && old.tenant == nil {
			r.negatives--
		}
		if r.lastGood == nil {
			r.lastGood = make(map[string]*Tenant)
		}
		r.lastGood[key] = t
	}
	r.hosts[key] = entry{tenant: t, expires: r.now().Add(ttl).UnixNano()}
	return t
}

func (r *Resolver) dropNegatives() {
	for k, e := range r.hosts {
		if e.tenant == nil {
			delete(r.hosts, k)
		}
	}
	r.negatives = 0
}

// Forget drops what the cache knows of one tenant, and every "no such host"
// entry, since a new domain or slug may now exist.
func (r *Resolver) Forget(id uuid.UUID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.hosts {
		if e.tenant != nil && e.tenant.ID == id {
			delete(r.hosts, k)
		}
	}
	for k, t := range r.lastGood {
		if t.ID == id {
			delete(r.lastGood, k)
		}
	}
	r.dropNegatives()
}

// ForgetAll empties the cache; the bus calls it when it (re)subscribes,
// because messages sent while it was away are lost.
func (r *Resolver) ForgetAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts = make(map[string]entry)
	r.negatives = 0
}
