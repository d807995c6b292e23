package imports

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// readAll splits src with lim and reads every chunk back, returning the
// dialect and each row as "line:field|field" (or "line!reason" for a row
// error), in file order.
func readAll(t testing.TB, name, src string, format Format, lim Limits) (Dialect, []string, error) {
	t.Helper()
	var chunks []Chunk
	d, stats, err := Split(strings.NewReader(src), name, format, lim, func(c Chunk) error {
		chunks = append(chunks, c)
		return nil
	})
	if err != nil {
		return d, nil, err
	}
	var rows []string
	var n int64
	for i, c := range chunks {
		if c.Seq != i {
			t.Fatalf("chunk %d has seq %d", i, c.Seq)
		}
		r := NewReader(d, c)
		got := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *RowError
			switch {
			case errors.As(err, &re):
				rows = append(rows, itoa(re.Line)+"!"+re.Reason)
			case err != nil:
				t.Fatalf("chunk %d: %v", i, err)
			default:
				rows = append(rows, itoa(row.Line)+":"+strings.Join(row.Fields, "|"))
			}
			got++
		}
		if got != c.Rows {
			t.Fatalf("chunk %d: read %d rows, staging counted %d", i, got, c.Rows)
		}
		n += int64(got)
	}
	if n != stats.Rows {
		t.Fatalf("read %d rows, stats say %d", n, stats.Rows)
	}
	return d, rows, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSplitCSV(t *testing.T) {
	tiny := Limits{ChunkRows: 2}
	cases := []struct {
		name    string
		file    string
		src     string
		lim     Limits
		delim   string
		columns []string
		rows    []string
	}{
		{name: "comma", src: "email,name\na@x.io,Ann\nb@x.io,Bob\n", delim: ",", columns: []string{"email", "name"},
			rows: []string{"2:a@x.io|Ann", "3:b@x.io|Bob"}},
		{name: "semicolon", src: "email;name;city\na@x.io;Ann, Jr;Oslo\n", delim: ";", columns: []string{"email", "name", "city"},
			rows: []string{"2:a@x.io|Ann, Jr|Oslo"}},
		{name: "tab", src: "email\tname\na@x.io\tAnn\n", delim: "\t", columns: []string{"email", "name"},
			rows: []string{"2:a@x.io|Ann"}},
		{name: "pipe", src: "email|name\na@x.io|Ann; Bob\n", delim: "|", columns: []string{"email", "name"},
			rows: []string{"2:a@x.io|Ann; Bob"}},
		{name: "delimiter inside a quoted header", src: "\"a,b\";c\n1;2\n", delim: ";", columns: []string{"a,b", "c"},
			rows: []string{"2:1|2"}},
		{name: "one column", src: "email\na@x.io\n", delim: ",", columns: []string{"email"}, rows: []string{"2:a@x.io"}},
		{name: "utf-8 bom", src: "\xEF\xBB\xBFemail,name\na@x.io,Zoë\n", delim: ",", columns: []string{"email", "name"},
			rows: []string{"2:a@x.io|Zoë"}},
		{name: "crlf and no final newline", src: "email,name\r\na@x.io,Ann\r\nb@x.io,Bob", delim: ",", columns: []string{"email", "name"},
			rows: []string{"2:a@x.io|Ann", "3:b@x.io|Bob"}},
		{name: "quoted newlines keep line numbers", lim: tiny, delim: ",", columns: []string{"email", "note"},
			src:  "email,note\na@x.io,\"two\nlines\"\nb@x.io,\"three\n\nlines\"\nc@x.io,plain\nd@x.io,\"\"\"quoted\"\"\"\n",
			rows: []string{"2:a@x.io|two\nlines", "4:b@x.io|three\n\nlines", "7:c@x.io|plain", "8:d@x.io|\"quoted\""}},
		{name: "blank lines are skipped but counted", lim: tiny, delim: ",", columns: []string{"email"},
			src: "email\n\na@x.io\n\n\nb@x.io\nc@x.io\n", rows: []string{"3:a@x.io", "6:b@x.io", "7:c@x.io"}},
		{name: "wrong number of values", delim: ",", columns: []string{"email", "name"},
			src:  "email,name\na@x.io\nb@x.io,Bob,extra\n",
			rows: []string{"2!has 1 values; the header has 2 columns", "3!has 3 values; the header has 2 columns"}},
		{name: "empty and padded header names", delim: ",", columns: []string{"email", "column_2", "name"},
			src: " email ,,name\na@x.io,1,Ann\n", rows: []string{"2:a@x.io|1|Ann"}},
		{name: "byte limit cuts chunks early", lim: Limits{ChunkBytes: 8}, delim: ",", columns: []string{"email"},
			src: "email\naaaaaaaaaa@x.io\nb@x.io\nc@x.io\n", rows: []string{"2:aaaaaaaaaa@x.io", "3:b@x.io", "4:c@x.io"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, rows, err := readAll(t, "customers.csv", tc.src, "", tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != FormatCSV || d.Delimiter != tc.delim || !reflect.DeepEqual(d.Columns, tc.columns) {
				t.Fatalf("dialect %+v, want delimiter %q columns %q", d, tc.delim, tc.columns)
			}
			if !reflect.DeepEqual(rows, tc.rows) {
				t.Fatalf("rows\n got %q\nwant %q", rows, tc.rows)
			}
		})
	}
}

func TestSplitFileErrors(t *testing.T) {
	cases := []struct {
		name, src string
		format    Format
		lim       Limits
		want      string
	}{
		{name: "empty", src: "", want: "the file is empty"},
		{name: "header only", src: "email,name\n", want: "line 2: the file has a header but no rows"},
		{name: "bare quote", src: "email,name\na@x.io,Ann\nb@x.io,Bo\"b\n",
			want: `line 3, column 10: a quote (") inside a field that does not start with one`},
		{name: "unterminated quote", src: "email,name\na@x.io,\"Ann\nb@x.io,Bob\n",
			want: "a quoted field that starts on line 2 is not closed"},
		{name: "text after a closing quote", src: "email;name\na@x.io;\"Ann\"x\n",
			want: "line 2, column 12: a quoted field that starts on line 2 is not closed, or a quote is followed by something other than the semicolon delimiter"},
		{name: "same column twice", src: "email,Name,name\n", want: `line 1: the column name "name" is used by columns 2 and 3`},
		{name: "utf-16", src: "\xFF\xFEe\x00m\x00", want: "line 1: the file is UTF-16"},
		{name: "too large", src: strings.Repeat("email\n", 100), lim: Limits{MaxBytes: 50}, want: "the file is larger than 50 bytes"},
		{name: "jsonl line too long", src: "{\"email\":\"a@x.io\"}\n{\"email\":\"" + strings.Repeat("x", 100) + "\"}\n",
			format: FormatJSONL, lim: Limits{MaxLine: 64}, want: "line 2: the line is longer than 64 bytes"},
		{name: "jsonl without rows", src: "\n\n", format: FormatJSONL, want: "the file has no rows"},
		{name: "csv row too long", src: "email,note\na@x.io,ok\n\n\r\nb@x.io," + strings.Repeat("x", 100) + "\nc@x.io,ok\n",
			lim: Limits{MaxRecord: 64}, want: "line 5: the row is longer than 64 bytes, the most one row may hold"},
		{name: "csv quoted row too long", src: "email,note\na@x.io,\"" + strings.Repeat("x\n", 50) + "\"\n",
			lim: Limits{MaxRecord: 64}, want: "line 2: the row is longer than 64 bytes"},
		{name: "csv row too long in a later chunk", src: "email\n" + strings.Repeat("a@x.io\n", 10) + strings.Repeat("y", 100),
			lim: Limits{MaxRecord: 64, ChunkRows: 3}, want: "line 12: the row is longer than 64 bytes"},
		{name: "csv header too long", src: "email," + strings.Repeat("n", 100) + "\na@x.io,Ann\n",
			lim: Limits{MaxRecord: 64}, want: "line 1: the header is longer than 64 bytes"},
		{name: "csv unclosed quote runs past the limit", src: "email,note\na@x.io,\"" + strings.Repeat("x,y\n", 50),
			lim: Limits{MaxRecord: 64}, want: `line 2: the row is longer than 64 bytes, the most one row may hold; if it should not be, look for a quote (") that is never closed`},
		{name: "csv header with too many columns", src: strings.Repeat("c,", 99_999) + "c\na@x.io\n",
			want: "line 1: the header has 100,000 values; at most 1,000 columns are allowed"},
		{name: "csv row with too many values", src: "email,name\na@x.io,Ann\n" + strings.Repeat(",", 10) + "\n",
			lim: Limits{MaxColumns: 10}, want: "line 3: the row has 11 values; at most 10 columns are allowed"},
		{name: "jsonl with too many keys", src: "{\"a\":1,\"b\":2}\n{\"c\":1,\"d\":2}\n",
			format: FormatJSONL, lim: Limits{MaxColumns: 3}, want: "line 2: the rows up to here have 4 different keys; at most 3 columns are allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, "f", tc.src, tc.format, tc.lim)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T), want a *FileError", err, err)
			}
			if !strings.Contains(fe.Error(), tc.want) {
				t.Fatalf("err = %q, want it to contain %q", fe.Error(), tc.want)
			}
		})
	}
}

// TestCSVRecordLimitEdges pins the limit to the byte: a record of exactly
// MaxRecord bytes (its line break included) is read, one byte more is not,
// whether or not the file ends with a line break.
func TestCSVRecordLimitEdges(t *testing.T) {
	const max = 32
	row := func(n int) string { return "a@x.io," + strings.Repeat("x", n-len("a@x.io,")) }
	for _, tc := range []struct {
		name, src string
		ok        bool
	}{
		{"at the limit", "email,note\n" + row(max-1) + "\n", true},
		{"at the limit, last line without a break", "email,note\n" + row(max), true},
		{"one byte over", "email,note\n" + row(max) + "\n", false},
		{"one byte over, last line without a break", "email,note\n" + row(max+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rows, err := readAll(t, "f.csv", tc.src, "", Limits{MaxRecord: max})
			if tc.ok && (err != nil || len(rows) != 1) {
				t.Fatalf("rows %q, err %v; want one row", rows, err)
			}
			var fe *FileError
			if !tc.ok && (!errors.As(err, &fe) || fe.Line != 2) {
				t.Fatalf("err = %v, want a FileError on line 2", err)
			}
		})
	}
}

// countingReader makes a one-row CSV whose second field is n bytes long,
// generated as it is read, and counts what was read.
type countingReader struct {
	head []byte
	left int64
	read int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n := copy(p, r.head)
	r.head = r.head[n:]
	for ; n < len(p) && r.left > 0; n++ {
		p[n] = 'x'
		r.left--
	}
	r.read += int64(n)
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// TestHugeCSVFieldIsRefusedWhileReading is the review's 60 MB field: the
// file is refused naming the line, and Split stops reading soon after the
// record limit, so the field was never in memory.
func TestHugeCSVFieldIsRefusedWhileReading(t *testing.T) {
	src := &countingReader{head: []byte("email,note\na@x.io,"), left: 60 << 20}
	_, _, err := Split(src, "huge.csv", "", Limits{}, func(Chunk) error {
		t.Fatal("a chunk was cut from a file whose only row is too long")
		return nil
	})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 2 || !strings.Contains(fe.Reason, "longer than 1.0 MB") {
		t.Fatalf("err = %v, want a FileError naming line 2", err)
	}
	// The record limit, plus Split's 64 KiB look-ahead and csv.Reader's 4 KiB buffer.
	if most := int64(DefaultLimits.MaxRecord + 64<<10 + 4<<10 + 1); src.read > most {
		t.Fatalf("Split read %d bytes of the 60 MiB row, more than %d", src.read, most)
	}
}

func TestSplitJSONL(t *testing.T) {
	src := "{\"email\":\"a@x.io\",\"name\":\"Ann\",\"vip\":true}\n\n" +
		"{\"name\":\"Bob\",\"email\":\"b@x.io\",\"age\":42,\"tags\":[\"x\"]}\r\n" +
		"not json\n" +
		"[1,2]\n" +
		"{\"email\":\"c@x.io\",\"name\":null}{\"extra\":1}\n" +
		"{\"email\":\"d@x.io\"}"
	d, rows, err := readAll(t, "people.jsonl", src, "", Limits{ChunkRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != FormatJSONL || !reflect.DeepEqual(d.Columns, []string{"email", "name", "vip", "age", "tags"}) {
		t.Fatalf("dialect %+v", d)
	}
	want := []string{
		// Every chunk's reader starts from the file's first keys, in the file's order.
		"1:a@x.io|Ann|true||",
		"3:b@x.io|Bob||42|[\"x\"]",
		"4!is not valid JSON (at character 2: invalid character 'o' in literal null (expecting 'u'))",
		"5!is not a JSON object",
		"6!holds more than one JSON value; put one object per line",
		"7:d@x.io||||",
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows\n got %q\nwant %q", rows, want)
	}
}

func TestGuessFormat(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       Format
	}{
		{"a.csv", "{", FormatCSV},
		{"a.ndjson", "email", FormatJSONL},
		{"upload", "  {\"email\":1}", FormatJSONL},
		{"upload", "email,name", FormatCSV},
	} {
		if got := guessFormat(tc.name, []byte(tc.head)); got != tc.want {
			t.Errorf("guessFormat(%q, %q) = %s, want %s", tc.name, tc.head, got, tc.want)
		}
	}
}

// FuzzRows checks that cutting a file into chunks never changes its rows:
// every chunk size reads back the same rows, with the same line numbers,
// as one big chunk, and nothing panics on any input.
func FuzzRows(f *testing.F) {
	for _, s := range []string{
		"email,name\na@x.io,Ann\n",
		"email;note\na@x.io;\"multi\nline\"\n\nb@x.io;x\n",
		"\xEF\xBB\xBFe|n\n1|2\n3\n",
		"{\"email\":\"a@x.io\"}\n\n{\"a\":[1]}\nnope\n",
		"a\tb\n\"x\"\"y\"\tz\r\n",
		"a,b\n\"unterminated\n",
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, src []byte, size uint8) {
		for _, format := range []Format{FormatCSV, FormatJSONL} {
			whole, wholeErr := rowsOf(t, src, format, Limits{ChunkRows: 1 << 30, ChunkBytes: 1 << 30})
			small, smallErr := rowsOf(t, src, format, Limits{ChunkRows: int(size%7) + 1, ChunkBytes: int(size%13) + 1})
			if (wholeErr == nil) != (smallErr == nil) {
				t.Fatalf("%s: whole file err %v, small chunks err %v", format, wholeErr, smallErr)
			}
			if wholeErr == nil && !reflect.DeepEqual(whole, small) {
				t.Fatalf("%s: rows differ\nwhole %q\nsmall %q", format, whole, small)
			}
		}
	})
}

func rowsOf(t *testing.T, src []byte, format Format, lim Limits) ([]string, error) {
	var chunks []Chunk
	d, _, err := Split(bytes.NewReader(src), "", format, lim, func(c Chunk) error {
		chunks = append(chunks, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range chunks {
		r := NewReader(d, c)
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *RowError
			if errors.As(err, &re) {
				out = append(out, itoa(re.Line)+"!"+re.Reason)
				continue
			}
			if err != nil {
				t.Fatalf("a staged chunk failed to read: %v", err)
			}
			if row.Line < c.FirstLine {
				t.Fatalf("row line %d before its chunk's first line %d", row.Line, c.FirstLine)
			}
			// Compare by column name: a JSON chunk numbers its columns itself.
			var named []string
			for i, v := range row.Fields {
				if v != "" {
					named = append(named, r.Columns()[i]+"="+v)
				}
			}
			sort.Strings(named)
			out = append(out, itoa(row.Line)+":"+strings.Join(named, "\x00"))
		}
	}
	return out, nil
}

func TestClipTo(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 10, ""},
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven …"},
		{"ääääääääää", 10, "ääääääääää"}, // 20 bytes, 10 characters
		{"äääääääääää", 10, "äääääää…"},
		{strings.Repeat("x", 1<<20), 60, strings.Repeat("x", 57) + "…"},
	} {
		if got := clipTo(tc.in, tc.n); got != tc.want {
			t.Errorf("clipTo(%.20q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
