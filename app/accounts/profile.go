package accounts

import (
	"context"
	"time"

	"gatehouse/apperr"
	"gatehouse/tenants"
)

const ratelimitHour = time.Hour

// UpdateProfile validates values against every field of the tenant's schema
// and stores them. A required field cannot be emptied.
func (s *Service) UpdateProfile(ctx context.Context, t *tenants.Tenant, c *Customer, values map[string]string, r Request) error {
	profile, errs := parseFields(t.Fields, values, c.Profile, true)
	if len(errs) > 0 {
		return errs
	}
	if err := s.store.For(t.ID).SetProfile(ctx, c.ID, profile); err != nil {
		return err
	}
	before := c.Profile
	c.Profile = profile
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.profile.updated", c.Email, r, map[string]any{"before": before, "after": profile})
	return nil
}

// parseFields validates submitted values for fields. With all, every field
// is read from values (an absent one is emptied); otherwise only fields
// present in values change and the rest keep their current value.
func parseFields(fields []tenants.Field, values map[string]string, current map[string]any, all bool) (map[string]any, tenants.FieldErrors) {
	profile := map[string]any{}
	for k, v := range current {
		profile[k] = v
	}
	errs := tenants.FieldErrors{}
	for _, f := range fields {
		raw, present := values[f.Key]
		if !present && !all {
			continue
		}
		v, err := f.Parse(raw)
		switch {
		case err != nil:
			errs[f.Key] = f.Label + " " + err.Error() + "."
		case v == nil && f.Capture == tenants.CaptureRequired:
			errs[f.Key] = f.Label + " is required."
		case v == nil:
			delete(profile, f.Key)
		default:
			profile[f.Key] = v
		}
	}
	return profile, errs
}

// ChangePassword sets a new password for a signed-in customer, after
// checking the current one (not asked of a social-only account adding its
// first password). Every other session ends; this one, whose token is keep,
// stays.
func (s *Service) ChangePassword(ctx context.Context, t *tenants.Tenant, c *Customer, current, next, keep string, r Request) error {
	if t.Settings.BrandLoginOnly {
		return errNoPasswords
	}
	if c.HasPassword() {
		// The same throttle as /login, on the same keys: a stolen session
		// must not become a way to guess the password without limit.
		g := s.guardFor(t, c.Email, c, r)
		if err := s.checkThrottle(ctx, g); err != nil {
			return err
		}
		ok, _, err := s.hasher.Verify(ctx, c.passwordHash, current)
		if err != nil {
			return err
		}
		if !ok {
			s.passwordFailed(ctx, t, c, g, r)
			s.record(ctx, t, "customer:"+c.ID.String(), "customer.password.change_failed", c.Email, r, nil)
			return tenants.FieldErrors{"current_password": "Your current password is not correct."}
		}
		s.passwordSucceeded(ctx, g)
	}
	if err := s.policy.Check("new_password", next, t.Settings.MinPasswordLength, c.Email); err != nil {
		return tenants.FieldErrors{"new_password": apperrMessage(err)}
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	if err := s.store.For(t.ID).SetPasswordHash(ctx, c.ID, hash); err != nil {
		return err
	}
	if err := s.endSessions(ctx, t, c.ID, keep); err != nil {
		return err
	}
	c.passwordHash = hash
	s.record(ctx, t, "customer:"+c.ID.String(), "customer.password.changed", c.Email, r, nil)
	s.notifyPasswordChanged(ctx, t, c)
	return nil
}

// Prompt is what /profile/complete asks a customer for.
type Prompt struct {
	Required []tenants.Field // missing required fields: must be filled to go on
	Optional []tenants.Field // missing optional and later fields: may be skipped
}

// Empty reports whether there is nothing to ask.
func (p Prompt) Empty() bool { return len(p.Required) == 0 && len(p.Optional) == 0 }

// PromptFor returns what the customer should be asked after signing in:
// always the missing required fields; the missing optional and "later" ones
// only if they were not asked for in the tenant's prompt interval.
func (s *Service) PromptFor(t *tenants.Tenant, c *Customer) Prompt {
	p := Prompt{Required: tenants.Missing(t.Fields, c.Profile, tenants.CaptureRequired)}
	interval := time.Duration(t.Settings.ProfilePromptDays) * 24 * time.Hour
	if c.ProfilePromptedAt == nil || s.now().Sub(*c.ProfilePromptedAt) >= interval {
		p.Optional = append(tenants.Missing(t.Fields, c.Profile, tenants.CaptureOptional),
			tenants.Missing(t.Fields, c.Profile, tenants.CaptureLater)...)
	}
	return p
}

// CompleteProfile stores what the customer filled in on /profile/complete.
// skip (allowed only when no required field is missing) stores nothing.
// Either way the optional prompt is not shown again for the interval.
func (s *Service) CompleteProfile(ctx context.Context, t *tenants.Tenant, c *Customer, values map[string]string, skip bool, r Request) error {
	missing := tenants.Missing(t.Fields, c.Profile, tenants.CaptureRequired)
	if skip && len(missing) > 0 {
		return apperr.New(apperr.Invalid, "Please fill in the required fields to continue.")
	}
	store := s.store.For(t.ID)
	if !skip {
		// Only the fields on the form; a required one left blank is an error.
		asked := map[string]string{}
		for _, f := range t.Fields {
			if v, ok := values[f.Key]; ok {
				asked[f.Key] = v
			} else if f.Capture == tenants.CaptureRequired && containsField(missing, f.Key) {
				asked[f.Key] = ""
			}
		}
		profile, errs := parseFields(t.Fields, asked, c.Profile, false)
		if len(errs) > 0 {
			return errs
		}
		if err := store.SetProfile(ctx, c.ID, profile); err != nil {
			return err
		}
		c.Profile = profile
		s.record(ctx, t, "customer:"+c.ID.String(), "customer.profile.completed", c.Email, r, nil)
	}
	now := s.now()
	if err := store.SetPrompted(ctx, c.ID, now); err != nil {
		return err
	}
	c.ProfilePromptedAt = &now
	return nil
}

func containsField(fields []tenants.Field, key string) bool {
	for _, f := range fields {
		if f.Key == key {
			return true
		}
	}
	return false
}
