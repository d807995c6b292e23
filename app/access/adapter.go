package access

import (
	"context"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/apperr"
)

// ruleRow is one casbin rule in casbin_rules.
type ruleRow struct {
	ID    uuid.UUID
	Ptype string
	V0    string
	V1    string
	V2    string
	V3    string
	V4    string
	V5    string
}

func (ruleRow) TableName() string { return "casbin_rules" }

func newRule(ptype string, rule []string) ruleRow {
	r := ruleRow{ID: uuid.Must(uuid.NewV7()), Ptype: ptype}
	vs := []*string{&r.V0, &r.V1, &r.V2, &r.V3, &r.V4, &r.V5}
	for i, v := range rule {
		if i < len(vs) {
			*vs[i] = v
		}
	}
	return r
}

func (r ruleRow) values() []string {
	vs := []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
	n := len(vs)
	for n > 0 && vs[n-1] == "" {
		n--
	}
	return vs[:n]
}

// Adapter is a casbin persist adapter on our own casbin_rules table, in
// place of gorm-adapter: the table is created by our migrations, like every
// other, and never by AutoMigrate.
type Adapter struct {
	db *gorm.DB
}

var _ persist.BatchAdapter = (*Adapter)(nil)

// NewAdapter returns an adapter on db.
func NewAdapter(db *gorm.DB) *Adapter { return &Adapter{db: db} }

// LoadPolicy loads every rule into m.
func (a *Adapter) LoadPolicy(m model.Model) error {
	var rows []ruleRow
	if err := a.db.Order("ptype, v0, v1, v2, v3").Find(&rows).Error; err != nil {
		return apperr.Wrap(err, "load casbin rules")
	}
	for _, r := range rows {
		if err := persist.LoadPolicyArray(append([]string{r.Ptype}, r.values()...), m); err != nil {
			return err
		}
	}
	return nil
}

// SavePolicy replaces the table with m's rules, in one transaction.
func (a *Adapter) SavePolicy(m model.Model) error {
	return a.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("1 = 1").Delete(&ruleRow{}).Error; err != nil {
			return apperr.Wrap(err, "clear casbin rules")
		}
		for _, sec := range []string{"p", "g"} {
			for ptype, ast := range m[sec] {
				for _, rule := range ast.Policy {
					row := newRule(ptype, rule)
					if err := tx.Create(&row).Error; err != nil {
						return apperr.Wrap(err, "save casbin rule")
					}
				}
			}
		}
		return nil
	})
}

// AddPolicy stores one rule; storing it twice is not an error.
func (a *Adapter) AddPolicy(_ string, ptype string, rule []string) error {
	return a.AddPolicies("", ptype, [][]string{rule})
}

// AddPolicies stores rules in one transaction.
func (a *Adapter) AddPolicies(_ string, ptype string, rules [][]string) error {
	return a.db.Transaction(func(tx *gorm.DB) error {
		for _, rule := range rules {
			row := newRule(ptype, rule)
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return apperr.Wrap(err, "add casbin rule")
			}
		}
		return nil
	})
}

// RemovePolicy deletes one rule.
func (a *Adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	return a.RemovePolicies("", ptype, [][]string{rule})
}

// RemovePolicies deletes rules in one transaction.
func (a *Adapter) RemovePolicies(_ string, ptype string, rules [][]string) error {
	return a.db.Transaction(func(tx *gorm.DB) error {
		for _, rule := range rules {
			r := newRule(ptype, rule)
			q := tx.Where("ptype = ? AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ? AND v4 = ? AND v5 = ?",
				r.Ptype, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5)
			if err := q.Delete(&ruleRow{}).Error; err != nil {
				return apperr.Wrap(err, "remove casbin rule")
			}
		}
		return nil
	})
}

// RemoveFilteredPolicy deletes the rules whose fields from fieldIndex on
// equal fieldValues; an empty value matches anything.
func (a *Adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex > 5 {
		return apperr.New(apperr.Invalid, "casbin field index %d out of range", fieldIndex)
	}
	q := a.db.Where("ptype = ?", ptype)
	cols := []string{"v0", "v1", "v2", "v3", "v4", "v5"}
	for i, v := range fieldValues {
		if fieldIndex+i > 5 {
			break
		}
		if v != "" {
			q = q.Where(cols[fieldIndex+i]+" = ?", v)
		}
	}
	if err := q.Delete(&ruleRow{}).Error; err != nil {
		return apperr.Wrap(err, "remove casbin rules")
	}
	return nil
}

// RedisClock is the policy Clock shared by every node through one Redis key.
type RedisClock struct {
	rdb redis.UniversalClient
	key string
}

// NewRedisClock returns a clock on key.
func NewRedisClock(rdb redis.UniversalClient, key string) *RedisClock {
	return &RedisClock{rdb: rdb, key: key}
}

// Now reads the version; a missing key is version "0".
func (c *RedisClock) Now(ctx context.Context) (string, error) {
	v, err := c.rdb.Get(ctx, c.key).Result()
	if err == redis.Nil {
		return "0", nil
	}
	return strings.TrimSpace(v), err
}

// Tick moves the version.
func (c *RedisClock) Tick(ctx context.Context) error {
	return c.rdb.Incr(ctx, c.key).Err()
}
