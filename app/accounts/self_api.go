package accounts

import (
	"context"

	"github.com/google/uuid"

	"gatehouse/tenants"
)

// PatchProfile changes only the fields present in values (JSON Merge
// Patch: an empty value removes one), validated with the same rules and
// messages as the hosted forms. A required field cannot be emptied, and a
// key that is not a registration field is refused by name.
func (s *Service) PatchProfile(ctx context.Context, t *tenants.Tenant, c *Customer, values map[string]string, r Request) error {
	errs := tenants.FieldErrors{}
	for k := range values {
		if !containsField(t.Fields, k) {
			errs[k] = "There is no such profile field."
		}
	}
	if len(errs) > 0 {
		return errs
	}
	profile, errs := parseFields(t.Fields, values, c.Profile, false)
	if len(errs) > 0 {
		return errs
	}
	if len(values) == 0 {
		return nil
	}
	if err := s.store.For(t.ID).SetProfile(ctx, c.ID, profile); err != nil {
		return err
	}
	before := c.Profile
	c.Profile = profile
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.profile.updated", c.Email, r, map[string]any{"before": before, "after": profile, "via": "api"})
	return nil
}

// Missing is what progressive profiling still needs from a customer: the
// required fields they lack, the optional and "later" ones they lack, and
// whether the tenant's interval says to ask for the optional ones now.
type Missing struct {
	Required    []tenants.Field
	Optional    []tenants.Field
	AskOptional bool
}

// MissingFields returns what c's profile lacks (see Missing).
func (s *Service) MissingFields(t *tenants.Tenant, c *Customer) Missing {
	p := s.PromptFor(t, c)
	return Missing{
		Required: p.Required,
		Optional: append(tenants.Missing(t.Fields, c.Profile, tenants.CaptureOptional),
			tenants.Missing(t.Fields, c.Profile, tenants.CaptureLater)...),
		AskOptional: len(p.Optional) > 0,
	}
}

// CompleteRequired stores values for the required fields c lacks, as the
// headless sign-in's answer to "these fields are missing". Each one must be
// there and valid; other fields in values are stored too when valid.
func (s *Service) CompleteRequired(ctx context.Context, t *tenants.Tenant, c *Customer, values map[string]string, r Request) error {
	asked := map[string]string{}
	for k, v := range values {
		asked[k] = v
	}
	for _, f := range tenants.Missing(t.Fields, c.Profile, tenants.CaptureRequired) {
		if _, ok := asked[f.Key]; !ok {
			asked[f.Key] = ""
		}
	}
	return s.PatchProfile(ctx, t, c, asked, r)
}

// ActiveCustomer returns the customer an access token names, if they are
// still active: a disabled account's tokens are worthless at once.
func (s *Service) ActiveCustomer(ctx context.Context, t *tenants.Tenant, id uuid.UUID) (*Customer, error) {
	c, err := s.store.For(t.ID).ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusActive {
		return nil, errDisabled
	}
	return c, nil
}
