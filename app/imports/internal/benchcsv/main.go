// Command benchcsv checks the import path's memory bound for CSV: that
// staging holds about one chunk and one record, however long the file's
// records are. For each run it starts itself as a child process that
// generates a CSV file on the fly (nothing is written to disk), streams it
// through imports.Split, reads every chunk back with imports.NewReader as a
// worker would, and exits; the parent reads the child's peak resident
// memory (getrusage max RSS). Kinds of file, interleaved round by round so
// the shared machine's drift falls on all of them alike:
//
//   - short: ordinary customer rows of about 45 bytes (the baseline);
//   - long: rows of about 1,000,000 bytes, just under Limits.MaxRecord;
//   - huge: one row as long as the whole file, which staging must refuse
//     after about MaxRecord bytes.
//
// The database is left out on purpose: the bound is about parsing and
// chunking, and writing 2 GB per run into a database ten times over would
// measure the disk. `make bench-csv-memory` runs it; docs/benchmarks.md
// keeps the figures.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gatehouse/app/imports"
	"gatehouse/app/internal/benchkit"
)

func main() {
	size := flag.Int64("size", 2_000_000_000, "bytes per generated file")
	runs := flag.Int("runs", 5, "rounds; each round runs every kind once")
	longRow := flag.Int("long", 1_000_000, "bytes per row of the long file")
	kinds := flag.String("kinds", "short,long,huge", "which files, comma-separated")
	child := flag.String("child", "", "internal: run one kind in this process")
	flag.Parse()
	if *child != "" {
		if err := runChild(*child, *size, *longRow); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := runParent(strings.Split(*kinds, ","), *size, *runs, *longRow); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// result is one child's outcome.
type result struct {
	kind   string
	rssKiB int64
	wall   time.Duration
	line   string // what the child printed
}

func runParent(kinds []string, size int64, runs, longRow int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("benchcsv · %s/%s · GOMAXPROCS %d · %d CPUs · %s per file · %d rounds · long rows of %d bytes\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), humanBytes(size), runs, longRow)
	fmt.Println("| round | file | outcome | wall time | peak RSS |")
	fmt.Println("|---:|---|---|---:|---:|")
	byKind := map[string][]result{}
	for round := 1; round <= runs; round++ {
		order := slices.Clone(kinds)
		if round%2 == 0 {
			slices.Reverse(order) // ABBA: neither kind always runs first
		}
		for _, k := range order {
			r, err := runOne(self, k, size, longRow)
			if err != nil {
				return err
			}
			byKind[k] = append(byKind[k], r)
			fmt.Printf("| %d | %s | %s | %.1f s | %.1f MiB |\n", round, k, r.line, r.wall.Seconds(), mib(r.rssKiB))
		}
	}
	base := kinds[0]
	fmt.Printf("\nPeak RSS over %d rounds, and as a ratio to %q in the same round:\n\n", runs, base)
	fmt.Println("| file | median peak RSS | range | median ratio | ratio range |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, k := range kinds {
		var rss, ratio []float64
		for i, r := range byKind[k] {
			rss = append(rss, mib(r.rssKiB))
			ratio = append(ratio, float64(r.rssKiB)/float64(byKind[base][i].rssKiB))
		}
		lo, mid, hi := spread(rss)
		rlo, rmid, rhi := spread(ratio)
		fmt.Printf("| %s | %.1f MiB | %.1f–%.1f MiB | %.2f× | %.2f–%.2f× |\n", k, mid, lo, hi, rmid, rlo, rhi)
	}
	return nil
}

func runOne(self, kind string, size int64, longRow int) (result, error) {
	cmd := exec.Command(self, "-child", kind, "-size", strconv.FormatInt(size, 10), "-long", strconv.Itoa(longRow))
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", kind, err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return result{}, errors.New("no rusage on this system")
	}
	return result{kind: kind, rssKiB: ru.Maxrss, wall: wall, line: strings.TrimSpace(string(out))}, nil
}

// runChild stages one generated file and prints what came of it.
func runChild(kind string, size int64, longRow int) error {
	src := &rows{left: size}
	switch kind {
	case "short":
	case "long":
		src.long = int64(longRow)
	case "huge":
		src.long = size
	default:
		return fmt.Errorf("no file kind %q: use short, long or huge", kind)
	}
	var readBack int64
	d, stats, err := imports.Split(src, "bench.csv", imports.FormatCSV, imports.DefaultLimits, func(c imports.Chunk) error {
		// What a worker does with the chunk: parse every row again.
		r := imports.NewReader(d0, c)
		for {
			_, err := r.Next()
			if err == io.EOF {
				return nil
			}
			var re *imports.RowError
			if err != nil && !errors.As(err, &re) {
				return err
			}
			readBack++
		}
	})
	var fe *imports.FileError
	switch {
	case errors.As(err, &fe):
		fmt.Printf("refused after reading %s: %s", humanBytes(src.given), fe.Error())
	case err != nil:
		return err
	case !slices.Equal(d.Columns, d0.Columns) || d.Delimiter != d0.Delimiter:
		return fmt.Errorf("%s: dialect %+v", kind, d)
	case readBack != stats.Rows:
		return fmt.Errorf("%s: staged %d rows, read back %d", kind, stats.Rows, readBack)
	default:
		fmt.Printf("%s rows, %s chunks, %s staged", benchkit.Thousands(stats.Rows), benchkit.Thousands(int64(stats.Chunks)), humanBytes(stats.Bytes))
	}
	return nil
}

// d0 is the dialect every generated file has; the emit callback needs it
// before Split has returned it.
var d0 = imports.Dialect{Format: imports.FormatCSV, Delimiter: ",", Columns: []string{"email", "first_name", "last_name", "note"}}

// rows generates a CSV of about left bytes: the header of d0, then rows
// of long bytes each (a short row when long is 0), each with its own
// email; the last row is finished, so the file is whole. A long row's note
// is handed out in slices of one shared buffer, so even a one-row file of
// gigabytes costs the generator a few kilobytes.
type rows struct {
	left    int64 // bytes still to make
	long    int64 // bytes per row, line break included; 0: short rows
	n       int64 // rows begun
	pending int64 // note bytes of the current row still to hand out
	inRow   bool  // a long row's line break is still to come
	head    bool  // the header was handed out
	buf     []byte
	note    []byte
	given   int64 // bytes handed out, for the refusal's figure
}

func (r *rows) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 && !r.next() {
			break
		}
		k := copy(p[n:], r.buf)
		r.buf = r.buf[k:]
		n += k
	}
	r.given += int64(n)
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// next makes the next piece of the file, or reports its end.
func (r *rows) next() bool {
	switch {
	case !r.head:
		r.head = true
		r.buf = []byte("email,first_name,last_name,note\n")
	case r.pending > 0:
		if r.note == nil {
			r.note = []byte(strings.Repeat("lorem ipsum ", (64<<10)/12))
		}
		k := min(r.pending, int64(len(r.note)))
		r.buf = r.note[:k]
		r.pending -= k
	case r.inRow:
		r.inRow = false
		r.buf = []byte("\n")
	case r.left <= 0:
		return false
	default:
		r.n++
		prefix := "user" + strconv.FormatInt(r.n, 10) + "@example.com,Ann,Lee,"
		if r.long == 0 {
			r.buf = []byte(prefix + "ok\n")
		} else {
			r.buf = []byte(prefix)
			r.pending = max(r.long-int64(len(prefix))-1, 0)
			r.inRow = true
		}
	}
	r.left -= int64(len(r.buf))
	return true
}

func spread(v []float64) (lo, median, hi float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return s[0], median, s[n-1]
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func humanBytes(n int64) string {
	switch {
	case n >= 1_000_000_000:
		return strconv.FormatFloat(float64(n)/1e9, 'f', 2, 64) + " GB"
	case n >= 1_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
