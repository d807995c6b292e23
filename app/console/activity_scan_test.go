package console

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	auditLine   = regexp.MustCompile(`\brecord\w*\(|\bRecord\(|\bAction:\s|[Aa]ction\s*:?=|FailedAction|action = `)
	dottedQuote = regexp.MustCompile(`"([a-z_]+(?:\.[a-z_]+)+)"`)
)

// recordedActions are the action keys in app's source on lines that
// record an audit event, or choose the action one records.
func recordedActions(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if !auditLine.MatchString(line) {
				continue
			}
			for _, m := range dottedQuote.FindAllStringSubmatch(line, -1) {
				if !strings.Contains(m[1], "_test") && !strings.HasPrefix(m[1], "api.") {
					seen[m[1]] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	if len(out) < 40 {
		t.Fatalf("found only %d actions; the scan is broken: %v", len(out), out)
	}
	return out
}
