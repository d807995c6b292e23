package app

import (
	"context"
	"errors"

	"gatehouse/jobs"
)

// sweepers runs every periodic sweep in turn on the worker's one
// schedule: the OpenID Provider's expired rows, and the scratch tables
// imports left behind. One failing does not stop the next.
type sweepers []jobs.Sweeper

// SweepExpired runs each sweep and joins their errors.
func (all sweepers) SweepExpired(ctx context.Context) error {
	var errs []error
	for _, s := range all {
		errs = append(errs, s.SweepExpired(ctx))
	}
	return errors.Join(errs...)
}

// sweeps is what the worker sweeps.
func (s *services) sweeps() jobs.Sweeper { return sweepers{s.oidc, s.imports} }
