# Hikyaku — the two commands:
#   make run    build and start the relay on this machine (all roles, private redis-server)
#   make test   install prerequisites, build, and run the whole test suite
# and   make fuzz   run the libFuzzer targets (fuzz/) for FUZZ_SECONDS each (default 600)
SWIFT ?= swift
CONFIG ?= debug
BIN := .build/$(CONFIG)/hikyaku

.PHONY: all run test deps build build-tests unit-tests integration-tests fuzz fuzz-smoke clean format lint

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG) --product hikyaku

run: build
	@scripts/run-local.sh $(BIN)

build-tests: deps
	$(SWIFT) build --build-tests

unit-tests: build-tests
	$(SWIFT) test --skip-build

# The integration tests run on two pytest-xdist workers: most of a test's time is waiting
# (for deliveries, claim timeouts, failovers), so two at once on two cores took 58% of
# the time of one after the other (1,037 s instead of 1,801 s, README "Tests"). Every test starts its own processes on
# free ports; the tests that share a machine-wide resource (the netns cluster) are one
# xdist_group. PYTEST_PARALLEL= (empty) runs them one after the other.
PYTEST_PARALLEL ?= -n 2 --dist loadgroup

integration-tests: build-tests
	HIKYAKU_BIN=$(CURDIR)/.build/debug/hikyaku python3 -m pytest Tests/integration -q $(PYTEST_PARALLEL)

# Each phase prints its duration (scripts/phase.sh).
test:
	@scripts/phase.sh deps scripts/install-deps.sh
	@scripts/phase.sh build sh -c 'scripts/check-imports.py && scripts/generate-lua.py --check && $(SWIFT_LINT) && $(SWIFT) build --build-tests'
	@scripts/phase.sh unit-tests $(SWIFT) test --skip-build
	@HIKYAKU_BIN=$(CURDIR)/.build/debug/hikyaku scripts/phase.sh integration-tests python3 -m pytest Tests/integration -q --durations=15 $(PYTEST_PARALLEL)
	@scripts/phase.sh fuzz-smoke fuzz/fuzz.sh $(FUZZ_SMOKE_SECONDS)

# swift-format (ships with the toolchain) with the checked-in .swift-format: `make format`
# rewrites, `make test` fails on any file that `make format` would change.
FORMATTED = Sources Tests load-tests fuzz Package.swift
SWIFT_LINT = $(SWIFT) format lint --strict --recursive --parallel $(FORMATTED)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMATTED)

lint:
	$(SWIFT_LINT)

# libFuzzer (fuzz/fuzz.sh, README "Fuzzing"): own scratch path .build-fuzz; corpus and
# crash inputs in var/fuzz/. `make test` runs each target briefly; `make fuzz` for long.
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 20

fuzz: deps
	fuzz/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke: deps
	fuzz/fuzz.sh $(FUZZ_SMOKE_SECONDS)

clean:
	rm -rf .build var

# Load tests (issue 4; load-tests/README.md): release binaries in their own scratch path
# (.build-release), then the runner. Output in var/loadtest/<scenario>-<time>/.
#   make loadtest [SCENARIO=newsletter-japan] [LOADTEST_ARGS='--messages 5000']
#   make bench    first the smtp-source profiles (issue 16: Postfix's smtp-source -> relay -> smtp-sink,
#                 one connection per message and connection reuse, Hikyaku and Postfix, median of 3),
#                 then flat-out-single-node through Hikyaku (SMTP, then its HTTP API single and batch),
#                 then through Postfix, side by side, then both at half Hikyaku's peak, then Hikyaku at 50/s
#   make bench-smtp   only the smtp-source profiles (load-tests/smtp_source_bench.py)
# BENCH_BUILD=0 skips the release build and BENCH_BIN_DIR=DIR takes the binaries from DIR;
# BENCH_DEPS=0 skips scripts/install-deps.sh --bench. Options: LOADTEST_ARGS for make bench
# (e.g. '--smtp-source-messages 10000 --smtp-source-relays hikyaku'), BENCH_SMTP_ARGS for
# make bench-smtp (e.g. '--messages 10000 --relays hikyaku --runs 1').
SCENARIO ?= flat-out-single-node
LOADTEST_BUILD = for product in hikyaku hikyaku-load hikyaku-sim; do \
	  $(SWIFT) build -c release --scratch-path .build-release --product $$product || exit 1; done

BENCH_BUILD ?= 1
BENCH_DEPS ?= 1
BENCH_BIN_DIR ?= .build-release/release
BENCH_PREPARE = if [ "$(BENCH_DEPS)" != 0 ]; then scripts/install-deps.sh --bench || exit 1; fi; \
	if [ "$(BENCH_BUILD)" != 0 ]; then $(LOADTEST_BUILD); fi

.PHONY: loadtest bench bench-smtp bench-suppression

loadtest: deps
	$(LOADTEST_BUILD)
	python3 load-tests/run.py $(SCENARIO) --bin-dir .build-release/release $(LOADTEST_ARGS)

bench:
	@$(BENCH_PREPARE)
	python3 load-tests/run.py flat-out-single-node --smtp-source --peer postfix --half-peak --low-rate 50 --api \
	  --bin-dir $(BENCH_BIN_DIR) $(LOADTEST_ARGS)

bench-smtp:
	@$(BENCH_PREPARE)
	python3 load-tests/smtp_source_bench.py --bin-dir $(BENCH_BIN_DIR) $(BENCH_SMTP_ARGS)

# Enqueue rate with and without a 1M-entry suppression list (not in make test). Uses the
# debug build unless HIKYAKU_BIN names another binary.
bench-suppression:
	HIKYAKU_BIN=$${HIKYAKU_BIN:-.build/debug/hikyaku} python3 scripts/bench-suppression.py $(BENCH_ARGS)

# The log store at scale (issue 14; not in make test): EVENTS events generated in bulk into
# a SQLite store under var/logbench/ (about 0.85 GB per million; reused between runs), then
# one-recipient searches and the console overview timed over HTTP, and the archiver fed at
# 5,000 events/s. `make logstore-bench EVENTS=50000000` needs ~45 GB of disk;
# `make logstore-bench STORE=postgres EVENTS=10000000` runs a throwaway PostgreSQL instead.
EVENTS ?= 10000000
STORE ?= sqlite
.PHONY: logstore-bench
logstore-bench: deps
	$(SWIFT) build -c release --scratch-path .build-release --product hikyaku
	python3 scripts/logstore-bench.py --bin .build-release/release/hikyaku --store $(STORE) --events $(EVENTS) $(LOGSTORE_BENCH_ARGS)

# The multi-host cluster (issue 6; cluster/README.md): network namespaces on this machine,
# release binaries from .build-release (the same build as make loadtest). Needs root.
#   make cluster-up | cluster-status | cluster-down
#   make chaos [FAULT=worker-kill] [CHAOS_REDIS=cluster] [CHAOS_ARGS=--smoke]   fault tests with loss accounting,
#              var/chaos/<time>/: every fault on both Redis topologies (Sentinel, then Redis Cluster) unless told
#   make cluster-up [CLUSTER_REDIS=cluster]             the cluster on a Redis Cluster instead of Sentinel
#   make scale [SCALE_ARGS='--workers 1,3']              1, 2, 3 worker hosts, var/scale/<time>/
FAULT ?= all
CHAOS_REDIS ?= sentinel,cluster
CLUSTER_REDIS ?= sentinel
CLUSTER = cluster/hikyaku-cluster --bin-dir .build-release/release

.PHONY: cluster-build cluster-up cluster-down cluster-status chaos scale

cluster-build: deps
	$(LOADTEST_BUILD)

cluster-up: cluster-build
	$(CLUSTER) up --redis $(CLUSTER_REDIS)

cluster-status:
	$(CLUSTER) status

cluster-down:
	$(CLUSTER) down

chaos: cluster-build
	$(CLUSTER) chaos $(FAULT) --redis $(CHAOS_REDIS) $(CHAOS_ARGS)

scale: cluster-build
	$(CLUSTER) scale $(SCALE_ARGS)

# Regenerate Tests/bounce-corpus/generated/ with real Postfix, Exim and Sendmail from Debian
# (root, Debian 12; binds 127.0.60.0/24 only; not part of `make test`). Tests/bounce-corpus/README.md
.PHONY: bounce-corpus
bounce-corpus:
	scripts/bounce-corpus/make-corpus.sh
