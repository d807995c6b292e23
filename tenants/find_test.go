package tenants_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"gatehouse/tenants"
)

// TestFind: the switcher's search matches name or slug, ignoring case and
// treating % and _ as themselves, lists by name up to the limit, counts
// the rest, and never returns a tenant outside its scope.
func TestFind(t *testing.T) {
	ctx := context.Background()
	store := mustStore(t)
	svc := mustService(t, store)
	a := mustCreate(t, svc, "acme")
	mustCreate(t, svc, "bravo")
	var shops []uuid.UUID
	for i := 1; i <= 12; i++ {
		shops = append(shops, mustCreate(t, svc, fmt.Sprintf("shop-%02d", i)).ID)
	}
	names := func(f tenants.Found) (out []string) {
		for _, r := range f.Tenants {
			out = append(out, r.Slug)
		}
		return out
	}
	t.Run("all, limited and counted", func(t *testing.T) {
		f, err := svc.Find(ctx, tenants.Among{All: true}, "SHOP", 5)
		if err != nil || fmt.Sprint(names(f)) != "[shop-01 shop-02 shop-03 shop-04 shop-05]" || f.Total != 12 || f.Capped {
			t.Fatalf("%v total %d (%v)", names(f), f.Total, err)
		}
		if f, _ := svc.Find(ctx, tenants.Among{All: true}, "brand BRAVO", 5); fmt.Sprint(names(f)) != "[bravo]" {
			t.Fatalf("by name: %v", names(f))
		}
	})
	t.Run("wildcards match themselves", func(t *testing.T) {
		for _, q := range []string{"%", "_", `\`} {
			if f, _ := svc.Find(ctx, tenants.Among{All: true}, q, 5); len(f.Tenants) != 0 || f.Total != 0 {
				t.Errorf("%q finds %v", q, names(f))
			}
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		f, err := svc.Find(ctx, tenants.Among{IDs: append([]uuid.UUID{a.ID}, shops[:2]...)}, "", 10)
		if err != nil || fmt.Sprint(names(f)) != "[acme shop-01 shop-02]" || f.Total != 3 {
			t.Fatalf("own tenants: %v total %d (%v)", names(f), f.Total, err)
		}
		if f, _ := svc.Find(ctx, tenants.Among{IDs: []uuid.UUID{a.ID}}, "bravo", 10); len(f.Tenants) != 0 || f.Total != 0 {
			t.Fatalf("acme's staff find %v", names(f))
		}
		if f, _ := svc.Find(ctx, tenants.Among{}, "", 10); len(f.Tenants) != 0 || f.Total != 0 {
			t.Fatalf("the zero scope finds %v", names(f))
		}
	})
}
