package cli

import (
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func (r *runner) appListCmd() *cobra.Command {
	var slug string
	var asJSON bool
	c := &cobra.Command{
		Use:   "list --tenant S [--json]",
		Short: "List a tenant's apps (never their secrets)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			a, err := r.tenantApps(c.Context(), slug)
			if err != nil {
				return err
			}
			defer a.close()
			list, err := a.apps.List(c.Context())
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]appView, 0, len(list))
				for _, app := range list {
					out = append(out, appJSON(app, "", ""))
				}
				return r.printJSON(out)
			}
			if len(list) == 0 {
				r.printf("no apps yet: gatehouse app create --tenant %s --name N --type web\n", a.tenant.Slug)
				return nil
			}
			w := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
			r.fprintf(w, "CLIENT ID\tNAME\tTYPE\tREDIRECT URIS\tCREATED\n")
			for _, app := range list {
				uris := strings.Join(app.RedirectURIs, ", ")
				if uris == "" {
					uris = "-"
				}
				r.fprintf(w, "%s\t%s\t%s\t%s\t%s\n", app.ClientID, app.Name, app.Type, uris, app.CreatedAt.Format("2006-01-02"))
			}
			return w.Flush()
		},
	}
	c.Flags().StringVar(&slug, "tenant", "", "the tenant's slug")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
