package cli

import (
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gatehouse/tenants"
)

func (r *runner) tenantListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tenants with their status and domains",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			svc, done, err := r.tenantService(c.Context())
			if err != nil {
				return err
			}
			defer done()
			list, err := svc.List(c.Context())
			if err != nil {
				return err
			}
			if len(list) == 0 {
				r.printf("no tenants yet: gatehouse tenant create --slug S --name N\n")
				return nil
			}
			w := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
			r.fprintf(w, "SLUG\tNAME\tSTATUS\tDOMAINS\tCREATED\n")
			for _, t := range list {
				r.fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Slug, t.Name, t.Status, domainList(t.Domains), t.CreatedAt.Format("2006-01-02"))
			}
			return w.Flush()
		},
	}
}

// domainList is a tenant's custom domains in one cell.
func domainList(domains []tenants.Domain) string {
	var ds []string
	for _, d := range domains {
		h := d.Hostname
		if !d.Verified {
			h += " (unverified)"
		}
		ds = append(ds, h)
	}
	if len(ds) == 0 {
		return "-"
	}
	return strings.Join(ds, ", ")
}
