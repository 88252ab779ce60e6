# Hikyaku — the two commands:
#   make run    build and start the relay on this machine (all roles, private redis-server)
#   make test   install prerequisites, build, and run the whole test suite
SWIFT ?= swift
CONFIG ?= debug
BIN := .build/$(CONFIG)/hikyaku

.PHONY: all run test deps build build-tests unit-tests integration-tests clean

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

integration-tests: build-tests
	HIKYAKU_BIN=$(CURDIR)/.build/debug/hikyaku python3 -m pytest Tests/integration -q

test: build-tests
	$(SWIFT) test --skip-build
	HIKYAKU_BIN=$(CURDIR)/.build/debug/hikyaku python3 -m pytest Tests/integration -q

clean:
	rm -rf .build var
