package cli

import (
	"github.com/spf13/cobra"

	"gatehouse/app/imports"
)

// importFlags are the flags of `gatehouse import`.
type importFlags struct {
	slug, format, mode, dateFormat, country, mapName, saveName, errorsPath string
	maps                                                                   []string
	dry, legacy                                                            bool
	workers                                                                int
}

// importCmd imports a file of customers through the same pipeline as the
// console: the file is staged in the database, and its steps run on the
// bulk queue. This process works on them too, so an import needs no
// separate worker; with no Redis configured it runs them all in process.
func (r *runner) importCmd() *cobra.Command {
	var in importFlags
	c := &cobra.Command{
		Use:   "import --tenant S FILE",
		Short: "Import customers from CSV or JSON Lines",
		Long: "Import customers from CSV or JSON Lines, printing progress.\n\n" +
			"TARGET is email, email_verified, password_hash, created_at, ignore, or a registration field's key.\n" +
			"Columns not named in --map are mapped by their names (email, e-mail, verified, created_at, a field's\n" +
			"key or label) or ignored.",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 || in.slug == "" {
				return usageError(c, "give --tenant S and one FILE")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return r.importRun(c, args[0], in) },
	}
	f := c.Flags()
	f.StringVar(&in.slug, "tenant", "", "the tenant's slug")
	f.StringVar(&in.format, "format", "", "csv or jsonl (default: from the file name and content)")
	f.StringArrayVar(&in.maps, "map", nil, "COLUMN=TARGET pairs, comma-separated (repeatable)")
	f.StringVar(&in.mode, "mode", string(imports.DefaultMode), "create (only add new customers), upsert or update (change existing ones)")
	f.BoolVar(&in.dry, "dry-run", false, "validate every row and count what would happen; write no customer")
	f.StringVar(&in.dateFormat, "date-format", "", "how dates are written, e.g. DD/MM/YYYY (default YYYY-MM-DD)")
	f.StringVar(&in.country, "country", "", "country of phone numbers written without +code, e.g. DE")
	f.BoolVar(&in.legacy, "legacy-passwords", false, "import password hashes (bcrypt, argon2, PBKDF2, scrypt); they are re-hashed at first login")
	f.StringVar(&in.mapName, "mapping", "", "start from the mapping saved under this name")
	f.StringVar(&in.saveName, "save-mapping", "", "save the mapping under this name for the next file")
	f.StringVar(&in.errorsPath, "errors", "", "write the rejected rows, with a reason column, to this CSV file")
	f.IntVar(&in.workers, "workers", 2, "chunks this process works on at once")
	c.AddCommand(r.importWorkCmd())
	return c
}
