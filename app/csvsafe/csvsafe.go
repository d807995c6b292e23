// Package csvsafe writes CSV that a spreadsheet opens as data. A cell that
// starts with = + - @ TAB or CR is read by Excel, LibreOffice and Google
// Sheets as a formula, which can run commands or send the sheet's contents
// away (CSV injection). The values Gatehouse writes to CSV come from
// uploaded files and customers, so every CSV it hands out goes through this
// package: one place that decides what a cell may start with.
package csvsafe

import (
	"encoding/csv"
	"io"
)

// Cell returns s as it is safe to put in a CSV cell: with a leading ' when
// it starts with a character a spreadsheet takes as the start of a
// formula, as OWASP advises; any other value unchanged. The ' is what a
// spreadsheet user types to say "this is text", so the value still reads
// the same to a person.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Restore undoes Cell for a value read back from CSV: a ' before one of
// the formula characters is dropped. Gatehouse's error report promises a
// file to fix and import again, and "+44 20 7946 0958" must come back as
// itself, not as "'+44 20 7946 0958". A value that really began with ' and
// a formula character loses the ', which no address, name or number needs.
func Restore(s string) string {
	if len(s) >= 2 && s[0] == '\'' && Cell(s[1:]) != s[1:] {
		return s[1:]
	}
	return s
}

// Writer is a csv.Writer whose every cell goes through Cell, so a caller
// cannot forget one column.
type Writer struct {
	w   *csv.Writer
	rec []string
}

// NewWriter returns a Writer writing comma-separated records to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, each cell neutralised; record itself is left as
// it was.
func (w *Writer) Write(record []string) error {
	w.rec = w.rec[:0]
	for _, s := range record {
		w.rec = append(w.rec, Cell(s))
	}
	return w.w.Write(w.rec)
}

// Flush writes any buffered data to the underlying writer; Error reports
// whether that or an earlier Write failed.
func (w *Writer) Flush() { w.w.Flush() }

// Error reports the first error of a Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }
