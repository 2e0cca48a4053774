# kubectl-caps developer entry points. `make test` is what CI runs (.ci/run).
GO        ?= go
BIN       := bin/kubectl-caps
VERSION   ?= dev
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS   := -s -w -X github.com/kubectl-caps/kubectl-caps/pkg/cmd.version=$(VERSION) \
             -X github.com/kubectl-caps/kubectl-caps/pkg/cmd.commit=$(COMMIT)
FUZZTIME  ?= 5s

.PHONY: all build test test-cluster-release test-unit testbin policytools precommit test-integration test-e2e test-runtime runtimes verification bench-live bench-scale fuzz lint verify verify-docs verify-mod docs bench clean

all: build

## build: compile bin/kubectl-caps
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kubectl-caps

## test: everything CI checks: verify, unit tests, short fuzzing, integration
## tests against a real kube-apiserver, end-to-end tests through the real
## kubectl, the release tests (goreleaser, krew), and the ground-truth
## runtime tests (real containerd and Docker; needs root). The runtime tests
## (their build, then containers that mostly wait on I/O) run beside the
## cluster and release tests, two jobs for CI's two cores; each output line
## is printed whole.
test: verify test-unit fuzz
	@$(MAKE) --no-print-directory -j2 --output-sync=line test-cluster-release test-runtime

## test-cluster-release: the integration, end-to-end and release tests, in turn
test-cluster-release: test-integration test-e2e test-release

## test-unit: the unit tests only (fast, no cluster)
test-unit:
	$(GO) test -count=1 ./...

## testbin: build (or reuse from ~/.cache) etcd, kube-apiserver and kubectl
testbin:
	hack/testbin.sh >/dev/null

## policytools: gather (or reuse from ~/.cache) the Kyverno and OpenShift CRDs
## that the policy tests install; POLICYTOOLS_FLAGS=--with-cli also builds the
## Kyverno CLI, which CI skips: ~26 CPU-minutes cold (hack/policytools.sh)
policytools:
	hack/policytools.sh $(POLICYTOOLS_FLAGS) >/dev/null

# -count=1: these tests drive external binaries and a server that go test's
# cache cannot see, so a cached "ok" would prove nothing.
## test-integration: the live-cluster tests against a real etcd + kube-apiserver
test-integration: testbin policytools
	KUBECTL_CAPS_TESTBIN="$$(hack/testbin.sh)" KUBECTL_CAPS_POLICYTOOLS="$$(hack/policytools.sh $(POLICYTOOLS_FLAGS))" $(GO) test -count=1 -tags integration ./internal/testserver/... ./test/integration/...

## precommit: install Debian's pre-commit when missing (root), for test-e2e
precommit:
	hack/precommit.sh >/dev/null

## test-e2e: the built plugin run through the real kubectl, as a user runs
## it, and the repository's pre-commit hook run by the real pre-commit
test-e2e: testbin precommit
	KUBECTL_CAPS_TESTBIN="$$(hack/testbin.sh)" KUBECTL_CAPS_PRECOMMIT="$$(hack/precommit.sh)" $(GO) test -count=1 -tags e2e ./test/e2e/...

## runtimes: build (or reuse from ~/.cache) containerd and runc, install Debian's docker.io
runtimes:
	hack/runtimes.sh >/dev/null

## test-runtime: the ground-truth harness: containers under real containerd
## 2.x, Debian's containerd 1.6 and Docker 20.10, their capability sets
## measured and held to the engine's prediction (root; docs/testing.md)
test-runtime: runtimes
	KUBECTL_CAPS_RUNTIMES="$$(hack/runtimes.sh)" $(GO) test -count=1 -timeout 60m -tags runtime ./test/runtime/...

## verification: run the harness and regenerate docs/verification.md from
## what it measured (written even when cases disagree; the test's verdict
## is printed and is this target's exit status)
verification: runtimes
	KUBECTL_CAPS_RUNTIMES="$$(hack/runtimes.sh)" KUBECTL_CAPS_VERIFICATION_OUT="$(CURDIR)/docs/verification.md" \
	  $(GO) test -count=1 -timeout 60m -tags runtime ./test/runtime/...

## fuzz: run every fuzz target for $(FUZZTIME), once more after the Go 1.26
## fuzzing coordinator's deadline race (hack/fuzz.sh)
fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) hack/fuzz.sh

## lint: go vet and gofmt
lint:
	$(GO) vet ./...
	$(GO) vet -tags runtime ./test/runtime/...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## verify: lint, go.mod tidy, generated docs current
verify: lint verify-mod verify-docs

verify-mod:
	@tmp=$$(mktemp -d); cp go.mod go.sum $$tmp/; $(GO) mod tidy; \
	if ! cmp -s go.mod $$tmp/go.mod || ! cmp -s go.sum $$tmp/go.sum; then \
	  diff -u $$tmp/go.mod go.mod; cp $$tmp/go.mod $$tmp/go.sum .; rm -rf $$tmp; \
	  echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit"; exit 1; fi; rm -rf $$tmp

verify-docs:
	@tmp=$$(mktemp -d); $(GO) run ./hack/docgen -out $$tmp; \
	if ! diff -r $$tmp/capabilities docs/capabilities || ! diff -r $$tmp/commands docs/commands; then \
	  rm -rf $$tmp; echo "docs are stale: run 'make docs' and commit"; exit 1; fi; rm -rf $$tmp

## docs: regenerate docs/capabilities (from the catalog) and docs/commands (from the cobra commands)
docs:
	rm -rf docs/capabilities docs/commands
	$(GO) run ./hack/docgen -out docs

## bench: go benchmarks of the engine, the catalog and the manifest reader
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...

## bench-live: live-cluster benchmark with N pods (default 10000) against the real apiserver (docs/benchmarks.md)
bench-live: testbin
	hack/bench-live.sh $(or $(N),10000)

## bench-scale: the scale suite of issue 15: audit at 1k, 10k and 100k pods, 3 clusters of 10k with --all-contexts, report on 10k (long: seeding 100k pods alone takes ~13 min; not part of make test; docs/benchmarks.md)
bench-scale: testbin
	hack/bench-scale.sh

clean:
	rm -rf bin dist

.PHONY: dist test-release

## dist: goreleaser snapshot of the working tree into dist/ (archives, checksums, goreleaser's krew manifest), and the reporter's image as an OCI layout in dist/image
dist:
	hack/release/goreleaser.sh release --snapshot --clean
	hack/release/image.sh dist dist/image

## test-release: release tests with the real goreleaser, krew and kubectl (docs/release.md)
test-release:
	hack/release/test-release.sh
