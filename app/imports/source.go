package imports

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gatehouse/app/csvsafe"
	"gatehouse/apperr"
)

// Format is how a file writes its rows.
type Format string

// The formats.
const (
	FormatCSV   Format = "csv"   // a header line, then one record per row; any of , ; TAB |
	FormatJSONL Format = "jsonl" // one JSON object per line
)

// ParseFormat reads a --format value; "" and "auto" mean "guess".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return "", nil
	case "csv", "tsv", "txt":
		return FormatCSV, nil
	case "jsonl", "ndjson", "json":
		return FormatJSONL, nil
	}
	return "", apperr.Field("format", "%q is not a format: use csv or jsonl", s)
}

// Dialect is what it takes to read a staged file's rows again: the format,
// CSV's delimiter, and the column names (CSV's header; for JSON Lines, the
// keys of the first rows, which is what the mapping screen offers).
type Dialect struct {
	Format    Format   `json:"format"`
	Delimiter string   `json:"delimiter,omitempty"`
	Columns   []string `json:"columns"`
}

// DelimiterName is how people call a delimiter.
func DelimiterName(d string) string {
	switch d {
	case ",":
		return "comma"
	case ";":
		return "semicolon"
	case "\t":
		return "tab"
	case "|":
		return "pipe"
	}
	return strconv.Quote(d)
}

// FileError is a problem that makes the whole file unreadable from that
// point on (an unterminated quote, a line too long, the wrong encoding).
// Line and Column are 1-based; 0 means "not known".
type FileError struct {
	Line   int64
	Column int
	Reason string
}

func (e *FileError) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Reason)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return e.Reason
}

// ErrorCode makes a malformed file an Invalid input for the error mapper.
func (e *FileError) ErrorCode() apperr.Code { return apperr.Invalid }

// RowError is what is wrong with one row; the row is rejected, the rest of
// the file goes on. Column names the file's column (its header name), or is
// empty when the problem is the row as a whole.
type RowError struct {
	Line   int64
	Column string
	Reason string
}

func (e *RowError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, column %q: %s", e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// Limits bound what staging accepts and how it cuts the file.
type Limits struct {
	MaxBytes   int64 // the largest file accepted (default 2.5 GB)
	ChunkRows  int   // rows per chunk (default 5,000)
	ChunkBytes int   // bytes per chunk before it is cut early (default 1 MiB)
	MaxLine    int   // the longest JSON line (default 1 MiB)
	MaxRecord  int   // the longest CSV record, header included, quoted line breaks and all (default 1 MiB)
	MaxColumns int   // the most values in one CSV record, or keys in a JSON file's first rows (default 1,000)
}

// DefaultLimits are the production limits. MaxRecord and MaxColumns keep
// one hostile row from costing the server its memory (encoding/csv holds a
// whole record) or the job page its CPU (every column is a row of the
// mapping form); real customer files are far inside both.
var DefaultLimits = Limits{MaxBytes: 2_500_000_000, ChunkRows: 5000, ChunkBytes: 1 << 20, MaxLine: 1 << 20, MaxRecord: 1 << 20, MaxColumns: 1000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.ChunkRows <= 0 {
		l.ChunkRows = DefaultLimits.ChunkRows
	}
	if l.ChunkBytes <= 0 {
		l.ChunkBytes = DefaultLimits.ChunkBytes
	}
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultLimits.MaxLine
	}
	if l.MaxRecord <= 0 {
		l.MaxRecord = DefaultLimits.MaxRecord
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = DefaultLimits.MaxColumns
	}
	return l
}

// Chunk is a run of whole rows, cut from the file as it streams past, that
// one task processes. Data holds the rows' original bytes (never the CSV
// header), so a chunk can be parsed on its own, on any machine.
type Chunk struct {
	Seq       int
	FirstLine int64 // the file line Data starts on
	Rows      int
	Data      []byte
}

// SplitStats is what staging learnt about a file.
type SplitStats struct {
	Rows   int64
	Bytes  int64
	Chunks int
}

// Split streams r into chunks of whole rows and hands each to emit, never
// holding more than about one chunk in memory. format "" guesses from the
// file name and the first bytes. A UTF-8 byte order mark is dropped. It
// returns the file's dialect, or a *FileError naming the line for a file
// that cannot be read.
func Split(r io.Reader, name string, format Format, lim Limits, emit func(Chunk) error) (Dialect, SplitStats, error) {
	lim = lim.withDefaults()
	counter := &limitedReader{r: r, max: lim.MaxBytes}
	br := bufio.NewReaderSize(counter, 64<<10)
	head, _ := br.Peek(64 << 10)
	if len(head) == 0 {
		if counter.err != nil {
			return Dialect{}, SplitStats{}, counter.err
		}
		return Dialect{}, SplitStats{}, &FileError{Reason: "the file is empty"}
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		head = head[3:]
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return Dialect{}, SplitStats{}, &FileError{Line: 1, Reason: "the file is UTF-16; save it as UTF-8 and upload it again"}
	}
	if format == "" {
		format = guessFormat(name, head)
	}
	var (
		d     Dialect
		stats SplitStats
		err   error
	)
	switch format {
	case FormatJSONL:
		d, stats, err = splitJSONL(br, lim, emit)
	default:
		d, stats, err = splitCSV(br, sniffDelimiter(head), lim, emit)
	}
	if counter.err != nil {
		// A read error or the size limit beats whatever the parser made of the cut-off input.
		return d, stats, counter.err
	}
	stats.Bytes = counter.n
	return d, stats, err
}

// guessFormat goes by the file's extension, then by whether it starts with
// a JSON object.
func guessFormat(name string, head []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL
	case ".csv", ".tsv", ".txt":
		return FormatCSV
	}
	if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return FormatJSONL
	}
	return FormatCSV
}

// delimiters are the candidates, in the order a tie is settled.
var delimiters = []byte{',', ';', '\t', '|'}

// sniffDelimiter counts each candidate in the header line, outside quotes,
// and picks the most frequent. A one-column file gets a comma.
func sniffDelimiter(head []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, b := range head {
		if b == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if b == '\n' {
			break
		}
		counts[b]++
	}
	best, n := byte(','), 0
	for _, d := range delimiters {
		if counts[d] > n {
			best, n = d, counts[d]
		}
	}
	return rune(best)
}

// limitedReader counts what it reads and stops with a FileError past max.
type limitedReader struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		l.err = &FileError{Reason: fmt.Sprintf("the file is larger than %s, the most one import takes; split it", humanBytes(l.max))}
		return n, l.err
	}
	if err != nil && err != io.EOF {
		l.err = fmt.Errorf("imports: read upload: %w", err)
		return n, l.err
	}
	return n, err
}

func humanBytes(n int64) string {
	switch {
	case n >= 1_000_000_000:
		return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + " GB"
	case n >= 1_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// tee keeps every byte read through it until take hands them out, so the
// bytes of whole CSV records can be cut at the offsets csv.Reader reports.
type tee struct {
	r    io.Reader
	buf  []byte
	base int64 // file offset of buf[0]
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// take returns a copy of the bytes up to offset end and forgets them.
func (t *tee) take(end int64) []byte {
	k := int(end - t.base)
	out := make([]byte, k)
	copy(out, t.buf[:k])
	rest := copy(t.buf, t.buf[k:])
	t.buf = t.buf[:rest]
	t.base = end
	return out
}

func csvFileError(err error, d rune) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := pe.Err.Error()
		switch {
		case errors.Is(pe.Err, csv.ErrBareQuote):
			reason = `a quote (") inside a field that does not start with one; put the whole field in quotes and double the quote ("")`
		case errors.Is(pe.Err, csv.ErrQuote):
			reason = fmt.Sprintf(`a quoted field that starts on line %d is not closed, or a quote is followed by something other than the %s delimiter`, pe.StartLine, DelimiterName(string(d)))
		}
		return &FileError{Line: int64(pe.Line), Column: pe.Column, Reason: reason}
	}
	return err
}

// recordLimit feeds csv.Reader at most max+1 bytes past the start of the
// record it is reading. encoding/csv gathers a whole record before it
// returns anything, so a cap checked on the records it returns would come
// after the memory is spent; this one holds while reading. Past the cap it
// fails with errRecordTooLong, and hit says so whatever csv made of it.
type recordLimit struct {
	r     io.Reader
	pos   int64 // bytes handed out so far
	start int64 // where the record being read starts (csv.Reader.InputOffset)
	max   int64
	hit   bool
}

var errRecordTooLong = errors.New("imports: csv record too long")

func (l *recordLimit) Read(p []byte) (int, error) {
	room := l.start + l.max + 1 - l.pos
	if l.hit || room <= 0 {
		l.hit = true
		return 0, errRecordTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.pos += int64(n)
	return n, err
}

// splitCSV reads the header, then cuts the records into chunks at record
// boundaries, so a quoted field holding newlines never straddles two. No
// record may pass lim.MaxRecord bytes or lim.MaxColumns values.
func splitCSV(br *bufio.Reader, delim rune, lim Limits, emit func(Chunk) error) (Dialect, SplitStats, error) {
	bound := &recordLimit{r: br, max: int64(lim.MaxRecord)}
	t := &tee{r: bound}
	cr := csv.NewReader(t)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	d := Dialect{Format: FormatCSV, Delimiter: string(delim)}
	var stats SplitStats
	line := int64(1) // the file line of the tee's first byte
	// read returns the next record, or a FileError naming the line it
	// starts on when it is too long or has too many values.
	read := func(what string) ([]string, error) {
		rec, err := cr.Read()
		if bound.hit {
			return nil, &FileError{Line: lineAt(t, line, bound.start), Reason: fmt.Sprintf(
				"%s is longer than %s, the most one row may hold; if it should not be, look for a quote (\") that is never closed", what, humanBytes(bound.max))}
		}
		if err != nil {
			return nil, err
		}
		end := cr.InputOffset()
		if end-bound.start > bound.max {
			return nil, &FileError{Line: lineAt(t, line, bound.start), Reason: fmt.Sprintf("%s is longer than %s, the most one row may hold", what, humanBytes(bound.max))}
		}
		if len(rec) > lim.MaxColumns {
			return nil, &FileError{Line: lineAt(t, line, bound.start), Reason: fmt.Sprintf("%s has %s values; at most %s columns are allowed", what, fmtInt(int64(len(rec))), fmtInt(int64(lim.MaxColumns)))}
		}
		bound.start = end
		return rec, nil
	}
	header, err := read("the header")
	if err == io.EOF {
		return d, stats, &FileError{Reason: "the file is empty"}
	}
	if err != nil {
		return d, stats, csvFileError(err, delim)
	}
	cols, err := cleanHeader(header)
	if err != nil {
		return d, stats, err
	}
	d.Columns = cols
	headerBytes := t.take(cr.InputOffset())
	line += int64(bytes.Count(headerBytes, []byte{'\n'}))
	rows := 0
	seq := 0
	start := cr.InputOffset()
	flush := func(end int64) error {
		data := t.take(end)
		c := Chunk{Seq: seq, FirstLine: line, Rows: rows, Data: data}
		if err := emit(c); err != nil {
			return err
		}
		stats.Chunks++
		seq++
		line += int64(bytes.Count(data, []byte{'\n'}))
		rows = 0
		start = end
		return nil
	}
	end := start
	for {
		_, err := read("the row")
		if err == io.EOF {
			break
		}
		if err != nil {
			return d, stats, csvFileError(err, delim)
		}
		rows++
		stats.Rows++
		end = cr.InputOffset()
		if rows >= lim.ChunkRows || end-start >= int64(lim.ChunkBytes) {
			if err := flush(end); err != nil {
				return d, stats, err
			}
		}
	}
	if rows > 0 {
		if err := flush(end); err != nil {
			return d, stats, err
		}
	}
	if stats.Rows == 0 {
		return d, stats, &FileError{Line: line, Reason: "the file has a header but no rows"}
	}
	return d, stats, nil
}

// lineAt is the file line a record starting at offset off begins on:
// first is the line of the tee's first byte, and the blank lines csv skips
// before a record are counted in.
func lineAt(t *tee, first, off int64) int64 {
	k := int(off - t.base)
	if k < 0 || k > len(t.buf) {
		return 0
	}
	line := first + int64(bytes.Count(t.buf[:k], []byte{'\n'}))
	for rest := t.buf[k:]; ; line++ {
		switch {
		case bytes.HasPrefix(rest, []byte("\n")):
			rest = rest[1:]
		case bytes.HasPrefix(rest, []byte("\r\n")):
			rest = rest[2:]
		default:
			return line
		}
	}
}

// cleanHeader trims the column names, names empty ones after their
// position, and refuses a name used twice, since a mapping could not tell
// the two apart.
func cleanHeader(header []string) ([]string, error) {
	cols := make([]string, len(header))
	seen := map[string]int{}
	for i, h := range header {
		h = csvsafe.Restore(strings.TrimSpace(h))
		if !utf8.ValidString(h) {
			return nil, &FileError{Line: 1, Column: i + 1, Reason: "the header is not valid UTF-8; save the file as UTF-8"}
		}
		if h == "" {
			h = "column_" + strconv.Itoa(i+1)
		}
		if j, dup := seen[strings.ToLower(h)]; dup {
			return nil, &FileError{Line: 1, Reason: fmt.Sprintf("the column name %q is used by columns %d and %d; rename one", clip(h), j+1, i+1)}
		}
		seen[strings.ToLower(h)] = i
		cols[i] = h
	}
	return cols, nil
}

// splitJSONL cuts the file at line ends. It also notes the keys of the
// first rows, in the order they first appear, for the mapping screen.
func splitJSONL(br *bufio.Reader, lim Limits, emit func(Chunk) error) (Dialect, SplitStats, error) {
	d := Dialect{Format: FormatJSONL}
	var stats SplitStats
	var buf bytes.Buffer
	var line int64
	firstLine := int64(1)
	rows := 0
	seq := 0
	keys := newKeySet()
	flush := func() error {
		data := make([]byte, buf.Len())
		copy(data, buf.Bytes())
		if err := emit(Chunk{Seq: seq, FirstLine: firstLine, Rows: rows, Data: data}); err != nil {
			return err
		}
		stats.Chunks++
		seq++
		buf.Reset()
		rows = 0
		firstLine = line + 1
		return nil
	}
	for {
		l, err := readLine(br, lim.MaxLine)
		if len(l) > 0 {
			line++
			if err == errLineTooLong {
				return d, stats, &FileError{Line: line, Reason: fmt.Sprintf("the line is longer than %s", humanBytes(int64(lim.MaxLine)))}
			}
			if len(bytes.TrimSpace(l)) > 0 {
				rows++
				stats.Rows++
				if stats.Rows <= 100 {
					keys.addLine(l)
					if len(keys.list) > lim.MaxColumns {
						return d, stats, &FileError{Line: line, Reason: fmt.Sprintf("the rows up to here have %s different keys; at most %s columns are allowed", fmtInt(int64(len(keys.list))), fmtInt(int64(lim.MaxColumns)))}
					}
				}
			} else if rows == 0 && buf.Len() == 0 {
				// Blank lines between chunks stay out of both.
				firstLine = line + 1
				l = nil
			}
			buf.Write(l)
			if rows >= lim.ChunkRows || buf.Len() >= lim.ChunkBytes {
				if err := flush(); err != nil {
					return d, stats, err
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return d, stats, err
		}
	}
	if rows > 0 {
		if err := flush(); err != nil {
			return d, stats, err
		}
	}
	if stats.Rows == 0 {
		return d, stats, &FileError{Reason: "the file has no rows"}
	}
	d.Columns = keys.list
	return d, stats, nil
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line with its newline, or errLineTooLong with
// a non-empty prefix once it passes max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(out)+len(frag) > max+1 {
			return append(out, frag...), errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			out = append(out, frag...)
			continue
		}
		if out == nil {
			return frag, err
		}
		return append(out, frag...), err
	}
}

// keySet is the ordered set of JSON keys seen.
type keySet struct {
	list []string
	seen map[string]bool
}

func newKeySet() *keySet { return &keySet{seen: map[string]bool{}} }

func (k *keySet) addLine(l []byte) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(l, &obj) != nil {
		return
	}
	var fresh []string
	for key := range obj {
		if !k.seen[key] {
			fresh = append(fresh, key)
		}
	}
	// A map forgets the order of the line; the keys' order in the line is
	// what a person expects, so find it.
	sort.Slice(fresh, func(i, j int) bool {
		return bytes.Index(l, []byte(strconv.Quote(fresh[i]))) < bytes.Index(l, []byte(strconv.Quote(fresh[j])))
	})
	for _, key := range fresh {
		k.seen[key] = true
		k.list = append(k.list, key)
	}
}

// Row is one record of a file: its line and its values. For CSV, Fields
// line up with the header; for JSON Lines, with Reader.Columns, which grows
// as new keys appear. Raw is the original line of a JSON row.
type Row struct {
	Line   int64
	Fields []string
	Raw    string
}

// Get returns the value of column i, or "" past the end of the row.
func (r Row) Get(i int) string {
	if i < 0 || i >= len(r.Fields) {
		return ""
	}
	return r.Fields[i]
}

// Reader reads the rows of one chunk.
type Reader interface {
	// Next returns the next row; io.EOF after the last. A *RowError comes
	// with the row it concerns, which the caller rejects and goes on; any
	// other error ends the chunk.
	Next() (Row, error)
	// Columns are the names Row.Fields line up with.
	Columns() []string
}

// NewReader reads the rows of a chunk cut by Split from a file of dialect d.
func NewReader(d Dialect, c Chunk) Reader {
	if d.Format == FormatJSONL {
		// The file's first keys come first, in the order the file has them,
		// so a row's problems are listed in the same column order as for CSV.
		r := &jsonReader{data: c.Data, line: c.FirstLine - 1, index: map[string]int{}}
		r.seed(d.Columns)
		return r
	}
	cr := csv.NewReader(bytes.NewReader(c.Data))
	delim, _ := utf8.DecodeRuneInString(d.Delimiter)
	if d.Delimiter == "" {
		delim = ','
	}
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &csvReader{cr: cr, cols: d.Columns, offset: c.FirstLine - 1, delim: delim}
}

type csvReader struct {
	cr     *csv.Reader
	cols   []string
	offset int64
	delim  rune
}

func (r *csvReader) Columns() []string { return r.cols }

func (r *csvReader) Next() (Row, error) {
	rec, err := r.cr.Read()
	if err == io.EOF {
		return Row{}, io.EOF
	}
	if err != nil {
		if fe, ok := csvFileError(err, r.delim).(*FileError); ok {
			fe.Line += r.offset
			return Row{}, fe
		}
		return Row{}, err
	}
	line, _ := r.cr.FieldPos(0)
	// A value of our own error report comes back as it was before the
	// report neutralised it for spreadsheets.
	for i, v := range rec {
		rec[i] = csvsafe.Restore(v)
	}
	row := Row{Line: r.offset + int64(line), Fields: rec}
	if len(rec) != len(r.cols) {
		return row, &RowError{Line: row.Line, Reason: fmt.Sprintf("has %d values; the header has %d columns", len(rec), len(r.cols))}
	}
	return row, nil
}

type jsonReader struct {
	data  []byte
	line  int64
	cols  []string
	index map[string]int
}

func (r *jsonReader) Columns() []string { return r.cols }

// seed starts the reader's columns with cols, so rows of several chunks
// line up.
func (r *jsonReader) seed(cols []string) {
	for _, c := range cols {
		if _, ok := r.index[c]; !ok {
			r.index[c] = len(r.cols)
			r.cols = append(r.cols, c)
		}
	}
}

func (r *jsonReader) Next() (Row, error) {
	for len(r.data) > 0 {
		i := bytes.IndexByte(r.data, '\n')
		var l []byte
		if i < 0 {
			l, r.data = r.data, nil
		} else {
			l, r.data = r.data[:i], r.data[i+1:]
		}
		r.line++
		l = bytes.TrimRight(l, "\r")
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		return r.row(l)
	}
	return Row{}, io.EOF
}

func (r *jsonReader) row(l []byte) (Row, error) {
	row := Row{Line: r.line, Raw: string(l)}
	if !utf8.Valid(l) {
		return row, &RowError{Line: r.line, Reason: "is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(l))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		reason := "is not a JSON object"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			reason = fmt.Sprintf("is not valid JSON (at character %d: %s)", se.Offset, se.Error())
		} else if errors.Is(err, io.ErrUnexpectedEOF) {
			reason = "is not valid JSON (the line ends before the object is closed)"
		}
		return row, &RowError{Line: r.line, Reason: reason}
	}
	if dec.More() {
		return row, &RowError{Line: r.line, Reason: "holds more than one JSON value; put one object per line"}
	}
	var fresh []string
	for k := range obj {
		if _, ok := r.index[k]; !ok {
			fresh = append(fresh, k)
		}
	}
	sort.Strings(fresh)
	for _, k := range fresh {
		r.index[k] = len(r.cols)
		r.cols = append(r.cols, k)
	}
	row.Fields = make([]string, len(r.cols))
	for k, v := range obj {
		row.Fields[r.index[k]] = jsonText(v)
	}
	return row, nil
}

// jsonText turns a JSON value into the text a CSV cell would hold.
func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
