package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gatehouse/app/access"
	"gatehouse/app/audit"
	"gatehouse/app/passwords"
	"gatehouse/apperr"
)

// operator is who the audit log names for a CLI change.
var operator = access.Actor{Email: "operator (cli)"}

// staffCmd manages console staff. Passwords are read from the first line of
// stdin, never from a flag, so they stay out of shell history and process
// listings.
func (r *runner) staffCmd() *cobra.Command {
	return r.groupCmd("staff", "Manage console staff (passwords on stdin)",
		r.staffCreateCmd(), r.staffGrantCmd(), r.staffPasswordCmd(), r.staffListCmd())
}

// staffRun is a staff command's service, with the store it was built on.
type staffRun struct {
	*store
	svc *access.Service
}

// staffService builds the staff service. Role changes tick the shared
// policy clock in Redis when it is reachable, so running servers apply them
// at once; otherwise within 30 seconds.
func (r *runner) staffService(ctx context.Context) (*staffRun, func(), error) {
	s, err := r.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	clock, closeClock := r.w.PolicyClock(ctx, r.cfg, r.env.Stderr)
	done := func() { closeClock(); s.close() }
	rbac, err := access.NewRBAC(ctx, s.db.Gorm, clock, 0)
	if err != nil {
		done()
		return nil, nil, err
	}
	hasher := passwords.NewHasher(passwords.Default, 0, 10*time.Second)
	svc := access.NewService(s.db.Gorm, rbac, hasher, passwords.NewPolicy(), nil, audit.NewRecorder(s.db.Gorm, s.log))
	return &staffRun{store: s, svc: svc}, done, nil
}

// domain turns --role and --tenant into the casbin domain.
func (s *staffRun) domain(ctx context.Context, r access.Role, slug string) (string, error) {
	if r == access.PlatformAdmin {
		if slug != "" {
			return "", apperr.Field("tenant", "platform-admin holds no tenant; leave --tenant out")
		}
		return access.PlatformDomain, nil
	}
	if slug == "" {
		return "", apperr.Field("tenant", "the role %s needs --tenant", r)
	}
	t, err := s.tenant(ctx, "tenant", slug)
	if err != nil {
		return "", apperr.Field("tenant", "no tenant has the slug %q", slug)
	}
	return access.TenantDomain(t.ID), nil
}

// readPassword reads the first line of r, without its line ending. Spaces
// are part of a password and are kept.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", apperr.Field("password", "give the password on the first line of stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", apperr.Field("password", "give the password on the first line of stdin")
	}
	return line, nil
}
