package tenants

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// KeepHostsCurrent is the safety net under the bus: every interval it asks
// the store for its hosts version (a count and the latest change time of
// the tenants, one cheap query) and reloads the known set when it moved
// or when the set is not loaded. A change whose announcement never reached
// Redis (a CLI run that could not reach it) is served within one interval.
func (r *Resolver) KeepHostsCurrent(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.reloadIfStale(ctx); err != nil && ctx.Err() == nil {
			log.Warn("tenant_hosts_reload_failed", "error", err)
		}
	}
}

func (r *Resolver) reloadIfStale(ctx context.Context) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	version, err := r.lookup.HostsVersion(ctx)
	if err != nil {
		return err
	}
	r.mu.RLock()
	current := r.known != nil && r.version == version
	r.mu.RUnlock()
	if current {
		return nil
	}
	return r.loadHostsLocked(ctx)
}

// LoadHosts (re)reads the complete set of known hosts in one streaming
// query and swaps it in whole. From then on an unknown host costs no query.
// The bus calls it at every (re)subscription, since changes announced while
// it was away are lost; serve calls it once at start.
func (r *Resolver) LoadHosts(ctx context.Context) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	return r.loadHostsLocked(ctx)
}

func (r *Resolver) loadHostsLocked(ctx context.Context) error {
	// Read before the rows, so a change landing during the load shows as
	// a new version at the next check.
	version, err := r.lookup.HostsVersion(ctx)
	if err != nil {
		r.unload()
		return err
	}
	known := make(map[string]uuid.UUID, len(r.known))
	err = r.lookup.EachHost(ctx, uuid.Nil, func(id uuid.UUID, slug, domain string) {
		known[r.hostName(slug, domain)] = id
	})
	if err != nil {
		r.unload() // the old set may be stale: ask the store until a load succeeds
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.known, r.version = known, version
	// A host remembered as unknown before the load may exist now.
	r.dropNegatives()
	return nil
}

// Changed applies the news that tenant id changed: its hosts in the known
// set are read again (a new tenant appears, a verified domain joins, a
// removed one leaves, a deleted tenant's all go), then its cached snapshot
// is dropped, so the next request reads it afresh.
func (r *Resolver) Changed(ctx context.Context, id uuid.UUID) error {
	err := r.refreshTenant(ctx, id)
	r.Forget(id)
	return err
}

func (r *Resolver) refreshTenant(ctx context.Context, id uuid.UUID) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	r.mu.RLock()
	loaded := r.known != nil
	r.mu.RUnlock()
	if !loaded {
		return nil // every miss still asks the store
	}
	var hosts []string
	err := r.lookup.EachHost(ctx, id, func(_ uuid.UUID, slug, domain string) {
		hosts = append(hosts, r.hostName(slug, domain))
	})
	if err != nil {
		// The set may now be wrong about this tenant: ask the store on
		// every miss until the next full load succeeds.
		r.unload()
		return err
	}
	// The tenant's old hosts are found by a scan, under the read lock so
	// requests go on meanwhile (loadMu keeps other writers out). A map by
	// tenant would make this instant but cost about 60 bytes per host, and
	// tenant changes are rare next to requests.
	var old []string
	r.mu.RLock()
	for h, owner := range r.known {
		if owner == id {
			old = append(old, h)
		}
	}
	r.mu.RUnlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range old {
		delete(r.known, h)
	}
	for _, h := range hosts {
		r.known[h] = id
	}
	return nil
}

// KnownHosts is how many hosts the known set holds, and whether it is
// loaded at all.
func (r *Resolver) KnownHosts() (n int, loaded bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.known), r.known != nil
}

// hostName is the key a tenant's slug or domain is known under.
func (r *Resolver) hostName(slug, domain string) string {
	if domain != "" {
		return domain
	}
	return slug + r.baseSuffix
}

func (r *Resolver) unload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.known, r.version = nil, ""
}
