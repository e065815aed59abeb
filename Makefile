# The Go module needs Go 1.27.3; the go command fetches it through the module
# proxy the first time (about 10 s).
export GOTOOLCHAIN := go1.27.3

GO        ?= go
BIN       := bin
CHATD     := $(BIN)/chatd
FRONTEND  := frontend
DIST      := $(FRONTEND)/dist

.PHONY: run build backend frontend test test-backend test-frontend test-e2e test-postman lint bench bench-peer bench-scale clean

## run: build everything and serve the app and API on http://localhost:8080
run: build
	CHAT_STATIC_DIR=$${CHAT_STATIC_DIR:-$(DIST)} ./$(CHATD)

build: frontend backend

# New goroutines start with 2 KiB of stack instead of the average the last
# GC saw (request handling makes it 8 KiB): every idle WebSocket keeps one
# goroutine, waiting on its socket at 2 KiB instead of 8 (BENCHMARKS.md). This is the binary's
# default GODEBUG (what a //go:debug line would set, which the go command
# does not allow for this setting); a GODEBUG variable still overrides it.
CHATD_LDFLAGS := -X=runtime.godebugDefault=adaptivestackstart=0

backend:
	cd backend && $(GO) build -trimpath -ldflags '$(CHATD_LDFLAGS)' -o ../$(CHATD) ./cmd/chatd

$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund

frontend: $(FRONTEND)/node_modules/.package-lock.json
	cd $(FRONTEND) && npm run build

## test: every test of the repository
test: test-backend test-frontend lint test-e2e test-postman

test-backend:
	cd backend && $(GO) vet ./... && $(GO) test -race -count=1 ./...

test-frontend: $(FRONTEND)/node_modules/.package-lock.json
	cd $(FRONTEND) && npm run lint && npm run typecheck && npm test

test-e2e: build
	cd $(FRONTEND) && npm run e2e

## bench: load benchmarks (Postgres + Redis, then SQLite) → BENCHMARKS.md; BENCH_SMALL=1 for a quick run
bench:
	scripts/bench.sh

## bench-peer: the fan-out against Centrifugo v6.9.1 (go installed into bin/) and ours, one server at a time → BENCHMARKS.md "Against Centrifugo"
bench-peer:
	scripts/bench-peer.sh

## bench-scale: 1, 2 and 3 instances on one Postgres and Redis, each serving its own groups → CPU per delivery, and what instances serving nobody spend
bench-scale:
	scripts/bench-scale.sh

## lint: container, compose, nginx and workflow checks (no Docker engine needed)
lint:
	cd deploy/check && $(GO) vet ./... && $(GO) test -count=1 ./...

postman/node_modules/.package-lock.json: postman/package-lock.json
	cd postman && npm ci --no-audit --no-fund

## test-postman: the Postman collection (newman) against a freshly built server
test-postman: backend postman/node_modules/.package-lock.json
	./postman/run.sh

clean:
	rm -rf $(BIN) $(DIST)
