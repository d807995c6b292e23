package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// report renders the run as Markdown: what ran, the fault timeline,
// requests by status, latency by endpoint in each window, the invariants.
func (s *soak) report(r *results, total time.Duration) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	verdict := "every invariant held"
	if !r.passed() {
		verdict = "at least one invariant FAILED"
	}
	p("# Reliability: `make soak`\n\n")
	p("This file is written by `make soak` (`app/internal/soak`); it holds the report of the latest full run. ")
	p("`.ci/run` runs the short form (`make soak-short`: 60 s of load, every fault injected once, every invariant checked) on every submission and prints its report without writing this file.\n\n")
	p("- Command: `%s`\n", s.command())
	p("- Run: %s UTC, load %s, whole run (setup, load, drain, checks) %.0f s; %s.\n", s.t0.UTC().Format("2006-01-02 15:04"), s.opt.duration, total.Seconds(), verdict)
	load1, _ := os.ReadFile("/proc/loadavg")
	p("- Machine: %s/%s, %d CPUs, load average at the end %s (a shared, busy machine: latencies are indicative).\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), strings.Join(strings.Fields(string(load1))[:min(3, len(strings.Fields(string(load1))))], " "))
	p("- Topology, all on loopback: two `gatehouse serve` nodes and two `gatehouse worker` processes (the checkout's `bin/gatehouse`); ")
	p("a private PostgreSQL 15 cluster (initdb in a temporary directory, own port); Redis primary + one replica + three Sentinels (quorum 2, down after 2 s); ")
	p("HAProxy round-robin over the serve nodes with `/readyz` checked every 500 ms; an in-process SMTP sink counting mail per address and Message-ID.\n")
	p("- Nodes reach Redis with `GATEHOUSE_REDIS_URL=%s`.", redactPorts(s.redisURL))
	if s.redisNote != "" {
		p(" Note: %s.", s.redisNote)
	}
	p("\n")
	p("- Load: %d virtual users, each in a loop with 50 ms pauses: sign-up 12%%, login 12%%, view /account 20%%, profile update 18%%, ", s.opt.vus)
	p("forgot-password 10%% (half for accounts that have not asked yet, half for unknown addresses), a refresh-token rotation of a first-party native app 14%% (signing in headlessly with `/api/v1/authorize-challenge` and the code grant with PKCE when the customer holds no refresh token), a `client_credentials` grant of a machine app 14%%; ")
	p("a %d-row CSV import through `POST /api/v1/imports` with the machine app's token. Each simulated customer has its own X-Forwarded-For address.\n\n", s.importRows)

	p("## Timeline\n\n| window | from | to | what happened |\n|---|---:|---:|---|\n")
	for _, w := range r.windows {
		p("| %s | %s | %s | %s |\n", w.name, s.at(w.start), s.at(w.end), escape(errOr(w.err, w.note)))
	}
	p("\nA window runs from the injection until the topology has recovered, plus %s for requests in flight. Everything else is *steady*. ", recoveryGrace)
	p("After the load, the soak waited %.0f s for mail and the import; %d mails arrived in all.\n\n", r.drained.Seconds(), r.mails)

	p("## Requests by status\n\n")
	s.statusTable(&b, r)
	p("\nBy window (all endpoints):\n\n")
	s.windowStatusTable(&b, r)
	p("\n## Latency by endpoint and window (ms)\n\n")
	s.latencyTable(&b, r)
	p("\n## Invariants\n\n| invariant | result | detail |\n|---|---|---|\n")
	for _, i := range r.invariants {
		res := "pass"
		if !i.ok {
			res = "**FAIL**"
		}
		p("| %s | %s | %s |\n", escape(i.name), res, escape(i.detail))
	}
	p("\nMemory is read with the load paused, for the serve node and the worker that were never killed: the baseline once the last fault's window has closed (every kind of work has run by then, the import's upload and chunks included, and every fault has been recovered from), and again at the end of the load, after at least %s more of the same steady load ", memoryTail)
	p("(`go_memstats_next_gc_bytes`, `process_resident_memory_bytes` and `go_goroutines` from a serve node's `/metrics`, the heap goal and goroutines as the fewest of %d samples %s apart; `VmRSS` from `/proc` for a worker). ", goroutineSamples, goroutineGap)
	p("Before a serve node's samples, `/metrics` is scraped until `go_gc_duration_seconds_count` shows a collection made with the load paused (at most %s), so that the heap goal does not depend on whether a login was hashing, with argon2id's 19 MiB block, when the load's last collection ran. ", settleFor)
	p("A serve node is judged by its heap goal, and in a full run (load of 3 minutes or more) by its RSS as well; the short form judges the heap goal only, since RSS follows the heap's peaks between collections and is returned to the OS by the scavenger over minutes, so it moves by a tenth or more over a short tail with no leak. Goroutines may rise by 10%% or by %d, whichever is more: on a base of about 25 a tenth is two, less than one Redis client's Sentinel subscription (three goroutines: its listener, its health check and its connection's read). ", goroutineSlack)
	p("serve-2 is made to print its goroutines at the very end (SIGQUIT), and the invariant's detail lists them by where they wait, so a leak would be named there. The detail also gives the connections serve-2's database and Redis pools hold at both readings (`gatehouse_db_open_connections`, `gatehouse_redis_open_connections`), reported, not judged: a pool regrowing after a fault grows the heap with it.\n")
	return b.String()
}

func (s *soak) command() string {
	return "go run ./app/internal/soak " + strings.Join(os.Args[1:], " ")
}

// windowOf names the window a request overlapped, or "steady".
func (s *soak) windowOf(r *results, sm sample) string {
	for _, w := range r.windows {
		if !sm.end.Before(w.start) && !sm.start.After(w.end) {
			return w.name
		}
	}
	return "steady"
}

func (s *soak) statusTable(b *strings.Builder, r *results) {
	counts := map[string]map[string]int{}
	codes := map[string]bool{}
	for _, sm := range r.samples {
		if sm.endpoint == "setup" {
			continue
		}
		if counts[sm.endpoint] == nil {
			counts[sm.endpoint] = map[string]int{}
		}
		c := statusText(sm.status)
		counts[sm.endpoint][c]++
		codes[c] = true
	}
	cols := keys(codes)
	fmt.Fprintf(b, "| endpoint | %s | total |\n|---|%s---:|\n", strings.Join(cols, " | "), strings.Repeat("---:|", len(cols)))
	total := map[string]int{}
	for _, ep := range keys(counts) {
		fmt.Fprintf(b, "| `%s` |", ep)
		n := 0
		for _, c := range cols {
			fmt.Fprintf(b, " %d |", counts[ep][c])
			n += counts[ep][c]
			total[c] += counts[ep][c]
		}
		fmt.Fprintf(b, " %d |\n", n)
	}
	fmt.Fprintf(b, "| all |")
	n := 0
	for _, c := range cols {
		fmt.Fprintf(b, " %d |", total[c])
		n += total[c]
	}
	fmt.Fprintf(b, " %d |\n", n)
}

func (s *soak) windowStatusTable(b *strings.Builder, r *results) {
	counts := map[string]map[string]int{}
	codes := map[string]bool{}
	for _, sm := range r.samples {
		if sm.endpoint == "setup" {
			continue
		}
		w := s.windowOf(r, sm)
		if counts[w] == nil {
			counts[w] = map[string]int{}
		}
		c := statusText(sm.status)
		counts[w][c]++
		codes[c] = true
	}
	cols := keys(codes)
	fmt.Fprintf(b, "| window | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---:|", len(cols)))
	windows := []string{"steady"}
	for _, w := range r.windows {
		windows = append(windows, w.name)
	}
	for _, w := range windows {
		fmt.Fprintf(b, "| %s |", w)
		for _, c := range cols {
			fmt.Fprintf(b, " %d |", counts[w][c])
		}
		fmt.Fprintln(b)
	}
}

func (s *soak) latencyTable(b *strings.Builder, r *results) {
	type key struct{ window, endpoint string }
	lat := map[key][]time.Duration{}
	eps := map[string]bool{}
	for _, sm := range r.samples {
		if sm.endpoint == "setup" {
			continue
		}
		k := key{s.windowOf(r, sm), sm.endpoint}
		lat[k] = append(lat[k], sm.end.Sub(sm.start))
		eps[sm.endpoint] = true
	}
	windows := []string{"steady"}
	for _, w := range r.windows {
		windows = append(windows, w.name)
	}
	endpoints := keys(eps)
	fmt.Fprintf(b, "Each cell: requests, p50 / p99.\n\n| window | %s |\n|---|%s\n", strings.Join(quoted(endpoints), " | "), strings.Repeat("---:|", len(endpoints)))
	for _, w := range windows {
		fmt.Fprintf(b, "| %s |", w)
		for _, ep := range endpoints {
			d := lat[key{w, ep}]
			if len(d) == 0 {
				fmt.Fprintf(b, " – |")
				continue
			}
			slices.Sort(d)
			fmt.Fprintf(b, " %d: %s / %s |", len(d), ms(quantile(d, 0.50)), ms(quantile(d, 0.99)))
		}
		fmt.Fprintln(b)
	}
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(float64(len(sorted)-1) * q)
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d.Microseconds())/1000) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func quoted(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return out
}

func escape(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

// redactPorts keeps the URL's shape but not this run's random ports.
func redactPorts(u string) string {
	var b strings.Builder
	digits := false
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c >= '0' && c <= '9' && i > 0 && (u[i-1] == ':' || digits) {
			if !digits {
				b.WriteString("PORT")
			}
			digits = true
			continue
		}
		digits = false
		b.WriteByte(c)
	}
	return b.String()
}
