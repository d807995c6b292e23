package apptest

import (
	"os"
	"strconv"
)

// EnvBenchRounds sets how many interleaved rounds a benchmark that builds
// its data set once (the 1,000,000-customer ones) runs on it.
const EnvBenchRounds = "GATEHOUSE_BENCH_ROUNDS"

// BenchRounds is the number of interleaved rounds: EnvBenchRounds, else 6,
// the fewest for which benchstat gives a confidence interval.
func BenchRounds() int {
	if n, err := strconv.Atoi(os.Getenv(EnvBenchRounds)); err == nil && n > 0 {
		return n
	}
	return 6
}
