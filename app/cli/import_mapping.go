package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"gatehouse/app/imports"
	"gatehouse/apperr"
	"gatehouse/tenants"
)

// mapping settles the mapping: a saved one or the automatic one, then the
// --map flags; it prints it, checks it against the file and saves it when
// asked.
func (im *importing) mapping(ctx context.Context, c *cobra.Command, job *imports.Job, m imports.Mapping, in importFlags) (imports.Mapping, error) {
	svc, fields := im.run.Service, im.t.Fields
	if in.mapName != "" {
		saved, err := svc.Mapping(ctx, im.t.ID, in.mapName)
		if err != nil {
			return m, err
		}
		m = mergeFlags(saved, m, c)
	} else {
		m.Columns = imports.AutoMap(job.Dialect.Columns, fields, in.legacy)
	}
	if err := applyMapFlags(&m, in.maps, fields); err != nil {
		return m, err
	}
	printMapping(im.r.env.Stdout, m, fields)
	if err := m.Check(job.Dialect, fields); err != nil {
		return m, err
	}
	if in.saveName != "" {
		if err := svc.SaveMapping(ctx, im.t.ID, im.actor, in.saveName, m); err != nil {
			return m, err
		}
		im.r.printf("saved the mapping as %q\n", in.saveName)
	}
	return m, nil
}

// mergeFlags lays the flags given on the command line over a saved mapping.
func mergeFlags(saved, flags imports.Mapping, c *cobra.Command) imports.Mapping {
	f := c.Flags()
	if f.Changed("mode") {
		saved.Mode = flags.Mode
	}
	if f.Changed("date-format") {
		saved.DateLayout = flags.DateLayout
	}
	if f.Changed("country") {
		saved.DefaultCountry = flags.DefaultCountry
	}
	if f.Changed("legacy-passwords") {
		saved.LegacyPasswords = flags.LegacyPasswords
	}
	return saved
}

// applyMapFlags sets the columns named by --map COLUMN=TARGET,….
func applyMapFlags(m *imports.Mapping, maps []string, fields []tenants.Field) error {
	for _, list := range maps {
		for _, pair := range strings.Split(list, ",") {
			if strings.TrimSpace(pair) == "" {
				continue
			}
			col, target, ok := strings.Cut(pair, "=")
			col = strings.TrimSpace(col)
			if !ok || col == "" {
				return apperr.Field("map", "%q is not COLUMN=TARGET", pair)
			}
			tg, err := imports.ParseTarget(target, fields)
			if err != nil {
				return err
			}
			m.Place(imports.ColumnMap{Column: col, Target: tg})
		}
	}
	return nil
}

func printMapping(w io.Writer, m imports.Mapping, fields []tenants.Field) {
	var ignored []string
	fmt.Fprintln(w, "mapping:")
	for _, c := range m.Columns {
		if c.Target == imports.TargetIgnore || c.Target == "" {
			ignored = append(ignored, strconv.Quote(c.Column))
			continue
		}
		fmt.Fprintf(w, "  %-24s → %s\n", c.Column, c.Target.Label(fields))
	}
	if len(ignored) > 0 {
		fmt.Fprintf(w, "  ignored: %s\n", strings.Join(ignored, ", "))
	}
}
