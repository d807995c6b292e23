package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"gatehouse/app/access"
)

// seedConsole makes sure a dev installation has a platform admin. On the
// first run it creates admin@console.<base-domain> with a random password
// and prints the pair once; later runs only say who to sign in as. It is
// for `serve --dev` only: production admins come from `gatehouse staff
// create`.
func seedConsole(ctx context.Context, s *services, out io.Writer) error {
	rbac, err := access.NewRBAC(ctx, s.db.Gorm, policyClock(s.redis), 0)
	if err != nil {
		return err
	}
	svc := access.NewService(s.db.Gorm, rbac, s.hasher, s.policy, nil, s.audit)
	email := "admin@console." + s.cfg.BaseDomain
	has, err := svc.HasPlatformAdmin(ctx)
	if err != nil {
		return err
	}
	if has {
		fmt.Fprintf(out, "  Console sign-in:          %s (password shown on the first run; reset it with\n", email)
		fmt.Fprintf(out, "                            echo 'new password' | go run . staff password --email %s)\n", email)
		return nil
	}
	password := rand.Text()
	if _, err := svc.Create(ctx, access.Actor{Email: "dev seed"}, access.NewStaff{
		Email: email, Password: password, Role: access.PlatformAdmin, Domain: access.PlatformDomain,
	}); err != nil {
		return err
	}
	fmt.Fprintf(out, "  Console sign-in (shown once): %s / %s\n", email, password)
	return nil
}
