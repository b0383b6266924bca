# Kinesis Console. `make help` lists the targets.
SHELL := /bin/bash
BIN := bin/kinesis-console
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Go test flags; e.g. make test GOTESTFLAGS='-run TestBrowser -v'
GOTESTFLAGS ?=
# How long each fuzz target runs: briefly in make test, longer by hand (make fuzz FUZZTIME=5m).
# make test counts executions (Nx): a duration can end in a spurious "context deadline exceeded"
# from Go 1.26's fuzz coordinator (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 30s

.DEFAULT_GOAL := help
.PHONY: help setup generate fmt lint check test refuse-short test-unit fuzz load mutate build run demo bench docker clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Install what tests need: npm backends (from the lockfile), Chromium, moto
	@bash .ci/setup

generate: ## Regenerate templ code (committed)
	go tool templ generate

fmt: ## Format Go and templ files
	gofmt -w $$(git ls-files '*.go')
	go tool templ fmt .

lint: ## go vet, gofmt, templ fmt, staticcheck
	go vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	go tool templ fmt -fail .
	go tool staticcheck ./...

check: ## Generated code is up to date, and lint passes
	@before=$$(cat $$(git ls-files '*_templ.go') | sha256sum); go tool templ generate >/dev/null 2>&1; \
	 after=$$(cat $$(git ls-files '*_templ.go') | sha256sum); \
	 if [ "$$before" != "$$after" ]; then echo "templ generate changed the generated code: run make generate and commit it"; exit 1; fi
	$(MAKE) --no-print-directory lint

# make test runs every test: a skip switch inherited from the runner's
# environment would skip the backend, fault and browser tests and still go
# green, so the test target unsets them and sets KINESIS_CONSOLE_NOSKIP, under
# which (as under CI) a skip switch that still gets through fails its test.
# -short is a skip switch too: make test refuses it in GOFLAGS or GOTESTFLAGS.
NOSKIP := env -u KINESIS_CONSOLE_SKIP_BACKENDS -u KINESIS_CONSOLE_SKIP_BROWSER KINESIS_CONSOLE_NOSKIP=1

test: refuse-short setup check ## Run every test: unit, integration (moto, kinesalite, kinesis-local), browser (Chromium), fuzz and load briefly
	$(NOSKIP) $(MAKE) --no-print-directory fuzz FUZZTIME=20000x
	$(NOSKIP) go run ./cmd/kinesis-console-loadtest -users 20 -requests 10
	$(NOSKIP) go test -count=1 -race -timeout 15m $(GOTESTFLAGS) ./...

load: ## Load test: 20 concurrent users through the console against kinesalite (USERS=20 REQUESTS=200)
	go run ./cmd/kinesis-console-loadtest -users $${USERS:-20} -requests $${REQUESTS:-200}

fuzz: ## Fuzz the validators, the rendering and the record decoder (FUZZTIME=30s each)
	go test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) ./internal/stream
	go test -run '^$$' -fuzz '^FuzzRenderEscapes$$' -fuzztime $(FUZZTIME) ./views
	go test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/decode
	go test -run '^$$' -fuzz '^FuzzFilter$$' -fuzztime $(FUZZTIME) ./internal/decode

refuse-short:
	@if grep -qE '(^| )--?(test\.)?short(=(1|t|T|true|TRUE|True))?( |$$)' <<< ' $(GOFLAGS) $(GOTESTFLAGS) '; then \
	  echo "make test runs every test, and -short would skip some: drop it from GOFLAGS and GOTESTFLAGS (make test-unit skips the backends)"; exit 1; fi

test-unit: ## Unit tests only, no backends or browser
	KINESIS_CONSOLE_SKIP_BACKENDS=1 go test -count=1 $(GOTESTFLAGS) ./...

# Mutation testing: gremlins changes the code one operator at a time and runs
# the package's unit tests; a change no test notices is a surviving mutant.
# Not part of make test: it takes over an hour on two cores. The backend
# tests skip (this is not CI, so the skip switch is allowed: CI is unset for
# it), so each mutant costs one build and one unit run, without vet;
# -count=1 makes the first, timed run a real one, which sets each mutant's
# timeout (3x that). Every package under internal/ is mutated, so a new one
# is in from its first commit, except two named here, and why:
#   localaws/  the test harness that starts real backends as child processes;
#              a mutant there tests the harness, not the console, and can
#              leave processes behind.
#   identity/  one cached STS call whose unit tests measure real elapsed
#              time (TestCallerTimeout, a 30 ms timeout): on cores shared
#              with a mutation run that is a race, not a verdict.
# (internal/field holds only constants: nothing to mutate, nothing to exclude.)
# Equivalent and harmless survivors, and why: .ci/mutants-equivalent.md.
MUTATE_WORKERS ?= 2
mutate: ## Mutation testing of every internal/ package but identity and localaws, unit tests only
	env -u CI -u KINESIS_CONSOLE_NOSKIP KINESIS_CONSOLE_SKIP_BACKENDS=1 GOFLAGS='-count=1 -vet=off' go tool gremlins unleash \
	  --workers $(MUTATE_WORKERS) --timeout-coefficient 3 --threshold-efficacy 85 \
	  -E '(identity|localaws)/' ./internal

build: ## Build bin/kinesis-console
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kinesis-console

run: build ## Run against real AWS with the SDK's default credentials and region
	./$(BIN)

demo: ## Run on a local moto (Kinesis one request at a time, STS, Glue) with demo streams and readers of demo-orders (Ctrl-C stops everything; another port: KINESIS_CONSOLE_ADDR=127.0.0.1:8081, KINESIS_CONSOLE_DEMO_MOTO_PORT, KINESIS_CONSOLE_DEMO_KINESIS_PORT)
	@python3 -c 'import moto.server' 2>/dev/null || { echo "demo: installing moto server for $$(command -v python3)"; python3 -m pip install --quiet "moto[server]>=5,<6"; }
	@echo "demo: building the console (the first build downloads modules and takes a minute or two)..."
	@$(MAKE) --no-print-directory build
	@go build -o bin/kinesis-console-demo ./cmd/kinesis-console-demo
	./bin/kinesis-console-demo -console ./$(BIN)

bench: setup ## Benchmarks, with ratios against baselines measured in the same run
	go test -run '^$$' -bench . -skip '^(BenchmarkPutRoundTrip|BenchmarkPutSharedKeys)$$' -benchmem -count 1 ./...
	@# A fixed 2,000 interleaved puts each: enough samples for a steady p50 and p99.
	go test -run '^$$' -bench '^BenchmarkPutRoundTrip$$' -benchtime 2000x -count 1 ./web
	@# The put with the replicas' keys in DynamoDB (moto) against the local store: 300 interleaved puts each.
	go test -run '^$$' -bench '^BenchmarkPutSharedKeys$$' -benchtime 300x -count 1 ./web

docker: ## Build the container image
	docker build -t kinesis-console:$(VERSION) .

clean: ## Remove build output
	rm -rf bin
