# Gatehouse: everything a person runs goes through these targets.
GO ?= go
PKGS := ./...

.PHONY: run build test test-short bench bench-tenants generate assets lint fmt clean

## run: start Gatehouse with the embedded stores, a demo tenant and dev mail (data in ./data)
run:
	$(GO) run . serve --dev

## build: compile ./bin/gatehouse
build:
	$(GO) build -o bin/gatehouse .

## test: every test; real PostgreSQL/Redis/Chromium when GATEHOUSE_TEST_* are set (see README)
# Most tests wait on PostgreSQL, Redis or Chromium rather than compute, so
# four parallel tests a package keep two cores busier than go test's
# default of one a core.
TEST_PARALLEL ?= 4
test:
	$(GO) test -count=1 -timeout 20m -parallel $(TEST_PARALLEL) $(PKGS)

## bench: the Go benchmarks behind docs/benchmarks.md, each in interleaved runs (needs GATEHOUSE_TEST_DATABASE_URL and _REDIS_URL)
bench: bench-go bench-login

BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: bench-go
## bench-go: host resolution, unknown hosts, login overload memory, the database cost of a login, GET /api/v1/me, the 1M-customer console and API queries and the OpenID Provider (bench-oidc), six interleaved rounds, medians and ranges and ratios to each baseline, then benchstat (raw output in bench-go.txt; ONLY=pattern runs some)
bench-go:
	$(GO) run ./app/internal/benchgo -rounds 6 -out bench-go.txt -benchstat $(BENCHSTAT) $(if $(ONLY),-only '$(ONLY)')

.PHONY: bench-login
## bench-login: POST /login beside raw argon2id and GET /login beside a bare gin handler, five interleaved runs summarised by benchstat (raw output in bench-login.txt)
bench-login:
	@rm -f bench-login.txt
	for i in 1 2 3 4 5; do $(GO) test -run '^$$' -bench '^(BenchmarkPasswordLogin|BenchmarkRawArgon2id|BenchmarkLoginPage|BenchmarkBareGin)$$' -benchmem -benchtime 3s ./app/ | tee -a bench-login.txt; done
	$(GO) run $(BENCHSTAT) bench-login.txt

.PHONY: bench-oidc
## bench-oidc: the OpenID Provider's endpoints beside a bare handler, six interleaved rounds, ratios, then benchstat (raw output in bench-oidc.txt; needs GATEHOUSE_TEST_DATABASE_URL and _REDIS_URL)
bench-oidc:
	$(GO) run ./app/internal/benchgo -only BenchmarkOP -rounds 6 -out bench-oidc.txt -benchstat $(BENCHSTAT)

## generate: regenerate templ components (the generated files are committed)
generate:
	$(GO) tool templ generate

## assets: refresh the vendored htmx, Redoc and (test-only) axe-core from the npm registry (pinned in assets/vendor-*.sh)
assets:
	sh assets/vendor-htmx.sh
	sh assets/vendor-redoc.sh
	sh assets/vendor-axe.sh

## lint: the quality gates CI runs
lint:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed on:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fmt:
	gofmt -w .

## clean: remove the dev data dir and build outputs
clean:
	rm -rf data bin

.PHONY: bench-import
## bench-import: import generated 100k- and 1M-row CSVs into fresh PostgreSQL databases (GATEHOUSE_TEST_DATABASE_URL, else local postgres; GATEHOUSE_TEST_REDIS_URL for asynq), 5 rounds interleaved with psql \copy of the same file; rows/s, the ratio to \copy, peak memory, and the database size after 1 and after 10 imports, for docs/benchmarks.md
bench-import:
	$(GO) build -o bin/gatehouse .
	$(GO) run ./app/imports/internal/benchimport -bin bin/gatehouse -rows 100000,1000000

.PHONY: bench-e2e
## bench-e2e: production-mode figures (serve and worker processes, a private PostgreSQL database and Redis db), ratios to baselines over 5 interleaved rounds; QUICK=1 for a short run; not part of CI
bench-e2e:
	$(GO) build -o bin/gatehouse .
	$(GO) run ./app/internal/benche2e -bin bin/gatehouse $(if $(QUICK),-quick)

.PHONY: bench-csv-memory
## bench-csv-memory: stream generated 2 GB CSVs (short rows, ~1 MB rows, one 2 GB row) through staging's parser and chunker, 5 interleaved rounds; peak RSS for docs/benchmarks.md
bench-csv-memory:
	$(GO) run ./app/imports/internal/benchcsv -size 2000000000 -runs 5

.PHONY: soak soak-short
SOAK_DURATION ?= 5m
## soak: two serve nodes, two workers, PostgreSQL, Redis + Sentinels and HAProxy on this machine under load and faults; writes docs/reliability.md (SOAK_DURATION, default 5m)
soak: build
	$(GO) run ./app/internal/soak -bin bin/gatehouse -duration $(SOAK_DURATION)

## soak-short: the CI form of soak, 60 s with every fault injected once; prints the report only
soak-short: build
	$(GO) run ./app/internal/soak -bin bin/gatehouse -short
