package main

import (
	"slices"
	"testing"
)

// The repeats Go names #01, #02… of one sub-benchmark, and BenchmarkOP's
// rounds, must land under one name, round by round, and a ratio must pair the same rounds.
func TestRepeatsFoldAndRatiosPairRounds(t *testing.T) {
	s := newSamples()
	for _, line := range []string{
		"BenchmarkX/select-1-2   500   100 ns/op",
		"BenchmarkX/page-2       500   1000 ns/op   12 B/op",
		"BenchmarkX/select-1#01-2   500   200 ns/op",
		"BenchmarkX/page#01-2       500   3000 ns/op   12 B/op",
		"BenchmarkOP/round1/Baseline-2   100   50 ns/op   20000000 req/s",
		"BenchmarkOP/round2/Baseline-2   100   60 ns/op   16666666 req/s",
		"PASS",
		"ok  	gatehouse/app	12.3s",
	} {
		s.add(fold(line))
	}
	if got := s.by["BenchmarkX/select-1"]["ns/op"]; !slices.Equal(got, []float64{100, 200}) {
		t.Fatalf("select-1 samples = %v", got)
	}
	if got := s.by["BenchmarkOP/Baseline"]["ns/op"]; !slices.Equal(got, []float64{50, 60}) {
		t.Fatalf("BenchmarkOP rounds = %v", got)
	}
	if got := s.by["BenchmarkX/page"]["B/op"]; !slices.Equal(got, []float64{12, 12}) {
		t.Fatalf("page B/op = %v", got)
	}
	cost := ratio{num: "BenchmarkX/page", den: "BenchmarkX/select-1", unit: "ns/op"}
	if got := cost.per(s); !slices.Equal(got, []float64{10, 15}) {
		t.Fatalf("cost ratios = %v, want 10 and 15", got)
	}
	cost.throughput = true
	if got := cost.per(s); len(got) != 2 || got[0] != 0.1 {
		t.Fatalf("throughput ratios = %v", got)
	}
}
