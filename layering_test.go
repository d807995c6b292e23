package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLowerLayersDoNotImportApp keeps the dependency direction
// main → app → app/* → tenants, jobs, views, config → apperr: no package
// outside app/ imports anything under gatehouse/app. It checks every such
// package (tenants, jobs, views, config, apperr, assets, migrations), so no
// chain of imports can reach app/ through one of them either. Test files
// are left out: external tests of tenants may use app/apptest.
func TestLowerLayersDoNotImportApp(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "app" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		checked += checkNoAppImports(t, e.Name())
	}
	if checked == 0 {
		t.Fatal("found no Go files outside app/ to check")
	}
}

// checkNoAppImports reports every import of gatehouse/app… under dir and
// returns how many files it read.
func checkNoAppImports(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "gatehouse/app" || strings.HasPrefix(p, "gatehouse/app/") {
				t.Errorf("%s imports %s: packages outside app/ must not depend on it", fset.Position(imp.Pos()), p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
