package csvsafe

import (
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"ann@example.com", "ann@example.com"},
		{"=HYPERLINK(\"https://evil.test\",\"x\")", "'=HYPERLINK(\"https://evil.test\",\"x\")"},
		{"=1+1", "'=1+1"},
		{"+49 30 1234567", "'+49 30 1234567"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"'already text", "'already text"},
		{"a=b", "a=b"},
		{" =1+1", " =1+1"}, // OWASP's list starts at the first character
		{"\n=1+1", "\n=1+1"},
		{"Zoë", "Zoë"},
		{"42", "42"},
	} {
		if got := Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRestore(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"'", "'"},
		{"'+49 30 1234567", "+49 30 1234567"},
		{"'=1+1", "=1+1"},
		{"'-2", "-2"},
		{"'@x", "@x"},
		{"'\tx", "\tx"},
		{"'\rx", "\rx"},
		{"'quoted'", "'quoted'"},
		{"''=x", "''=x"},
		{"+1", "+1"},
		{"O'Brien", "O'Brien"},
	} {
		if got := Restore(tc.in); got != tc.want {
			t.Errorf("Restore(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzCellRestore: what Cell writes never starts a formula, and Restore
// gives back the value, unless the value itself began with ' and a formula
// character (the one case Restore documents).
func FuzzCellRestore(f *testing.F) {
	for _, s := range []string{"", "=1", "+1", "'x", "'=x", "a", "\t", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Cell(s)
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			t.Fatalf("Cell(%q) = %q starts a formula", s, c)
		}
		if Restore(s) == s && Restore(c) != s {
			t.Fatalf("Restore(Cell(%q)) = %q", s, Restore(c))
		}
	})
}

// TestWriterNeutralisesEveryCell reads back what Writer wrote: every cell
// of every record, the first included, is neutralised, quoting still works,
// and the caller's record is not changed.
func TestWriterNeutralisesEveryCell(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	header := []string{"line", "=reason"}
	row := []string{"-1", "a,\"b\"\n=c", "@x"}
	for _, rec := range [][]string{header, row} {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if row[0] != "-1" {
		t.Fatalf("Write changed its argument: %q", row)
	}
	r := csv.NewReader(strings.NewReader(b.String()))
	r.FieldsPerRecord = -1
	got, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"line", "'=reason"}, {"'-1", "a,\"b\"\n=c", "'@x"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %q, want %q", got, want)
	}
}
