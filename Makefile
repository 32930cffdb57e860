# shopmesh — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTOS := $(shell find protos -name '*.proto')
GEN_STAMP := gen/.stamp
BUF := tools/node_modules/.bin/buf

# The Go implementations (docs/POLYGLOT.md): toolchain, pinned generators and linter.
GO ?= go
GO_BIN := build/go/bin
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
STATICCHECK_VERSION := v0.8.2
# The outside references of the benchmarks (docs/benchmarks.md): grpc-gateway's generator
# (the same version as the runtime library go.mod requires) and the ghz gRPC loader.
GRPC_GATEWAY_VERSION := v2.30.0
GHZ_VERSION := v0.120.0
GO_TOOLS_STAMP := $(GO_BIN)/.tools-$(PROTOC_GEN_GO_VERSION)-$(PROTOC_GEN_GO_GRPC_VERSION)-$(STATICCHECK_VERSION)-$(GRPC_GATEWAY_VERSION)
GHZ_STAMP := $(GO_BIN)/.ghz-$(GHZ_VERSION)
HAVE_GO := $(shell command -v $(GO) 2>/dev/null)
GO_GEN_STAMP := gen/go/.stamp
comma := ,

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python tools/protogen.py
	@# Re-register the project now that gen/python/shopmesh exists.
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(GEN_STAMP): $(STAMP) $(PROTOS) tools/protogen.py
	$(BIN)/python tools/protogen.py
	touch $@

.PHONY: venv
venv: $(STAMP) ## Create .venv with pinned dependencies (needs only python3.11)

.PHONY: protos
protos: $(GEN_STAMP) ## Generate Python stubs, .pyi typing and gen/descriptors.binpb from protos/

$(BUF): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --silent
	touch $@

.PHONY: buf-lint
buf-lint: $(GEN_STAMP) $(BUF) ## buf lint on the protoc-built image (googleapis excluded)
	$(BUF) lint gen/descriptors.binpb --exclude-path google

.PHONY: buf-breaking
buf-breaking: $(GEN_STAMP) $(BUF) ## buf breaking: the contracts against the previous commit's (AGAINST=<git ref>)
	$(BIN)/python -m tools.buf_breaking $(if $(AGAINST),--against $(AGAINST))

.PHONY: go-check
go-check: ## Fail with one line when the Go toolchain (or npm, for buf) is missing
	@command -v $(GO) >/dev/null 2>&1 || { echo "go not found: install Go 1.26 or newer (https://go.dev/dl/) to build the Go services" >&2; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: the Go code is generated with buf, installed from npm (apt-get install npm)" >&2; exit 1; }

$(GO_TOOLS_STAMP): | go-check
	GOBIN=$(abspath $(GO_BIN)) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(abspath $(GO_BIN)) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	GOBIN=$(abspath $(GO_BIN)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	GOBIN=$(abspath $(GO_BIN)) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
	touch $@

$(GO_GEN_STAMP): $(GEN_STAMP) $(BUF) $(GO_TOOLS_STAMP) buf.gen.go.yaml buf.gen.grpcgateway.yaml
	rm -rf gen/go
	$(BUF) generate gen/descriptors.binpb --template buf.gen.go.yaml --path shopmesh
	$(BUF) generate gen/descriptors.binpb --template buf.gen.grpcgateway.yaml --path shopmesh
	touch $@

.PHONY: go-gen
go-gen: go-check $(GO_GEN_STAMP) ## Generate Go code from protos/ into gen/go (buf, pinned local plugins)

.PHONY: go-build
go-build: go-gen ## Build the Go services the manifest lists into build/go/bin
	@$(BIN)/python tools/go_builds.py | while read -r binary package; do \
		echo "$(GO) build -o $$binary $$package"; \
		$(GO) build -trimpath -buildvcs=false -o "$$binary" "$$package" || exit 1; \
	done

.PHONY: grpcgateway
grpcgateway: go-gen ## Build the reference transcoder make bench-gateway runs beside ours: build/go/bin/grpcgateway
	$(GO) build -trimpath -buildvcs=false -o $(GO_BIN)/grpcgateway ./tools/grpcgateway

$(GHZ_STAMP):
	GOBIN=$(abspath $(GO_BIN)) $(GO) install github.com/bojand/ghz/cmd/ghz@$(GHZ_VERSION)
	touch $@

.PHONY: ghz
ghz: $(GHZ_STAMP) ## Install ghz (pinned) into build/go/bin: make selfcheck's second gRPC loader

.PHONY: go-test
go-test: go-build ## go vet, staticcheck and go test -race of the Go services and platform
	$(GO) vet ./...
	$(GO_BIN)/staticcheck ./...
	$(GO) test -race -count=1 ./...

.PHONY: lint
lint: $(GEN_STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: test
test: $(GEN_STAMP) ## Create the environment and run every test (lint, buf lint, Go build and tests, then pytest)
	$(MAKE) --no-print-directory lint
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory buf-lint buf-breaking; \
	else echo "npm not found: skipping buf lint and buf breaking (CI runs them)"; fi
	$(MAKE) --no-print-directory go-test
	$(BIN)/python -m pytest

TRANSPORT ?= $(or $(MESH_TRANSPORT),grpc)
IMPL ?= $(MESH_IMPL)

.PHONY: run
run: $(GEN_STAMP) $(if $(filter go %=go,$(subst $(comma), ,$(IMPL))),go-build) ## Run the local mesh until Ctrl-C (TRANSPORT=grpc|rest|both, IMPL=go or IMPL=pricing=go,inventory=go)
	$(BIN)/python -m runner run --transport $(TRANSPORT) $(if $(IMPL),--impl $(IMPL))

.PHONY: demo
demo: $(GEN_STAMP) ## Start both meshes and the gateway, run a short comparison, print the table and chart path
	$(BIN)/python -m loadtest demo

.PHONY: compare
compare: $(GEN_STAMP) $(if $(HAVE_GO),go-build) ## The standard comparison, gRPC vs REST, Python and Go services (about 6 minutes): build/loadtest/compare.{json,md,html}
	$(BIN)/python -m loadtest compare

.PHONY: selfcheck
selfcheck: $(GEN_STAMP) $(if $(HAVE_GO),$(GHZ_STAMP)) ## Our loader against h2load, ghz and wrk on one endpoint (needs nghttp2-client, wrk; Go for ghz)
	$(BIN)/python -m loadtest selfcheck

.PHONY: chaos
chaos: $(GEN_STAMP) $(if $(HAVE_GO),go-build) ## Faults under checkout load (kills, SIGTERM, hang, slow, cut, duplicates), then the books checked; gRPC, REST, Go, DynamoDB (about 7 minutes): build/chaos/chaos.{md,json}
	$(BIN)/python -m loadtest chaos

.PHONY: bench-runtime
bench-runtime: $(GEN_STAMP) ## Benchmark: full runtime vs a bare grpc.aio server (GetProduct)
	$(BIN)/python -m tools.bench_runtime

.PHONY: bench-gateway
bench-gateway: $(GEN_STAMP) $(if $(HAVE_GO),grpcgateway) ## Benchmark: our REST gateway and grpc-gateway vs gRPC direct (GetProduct, ListProducts)
	$(BIN)/python -m tools.bench_gateway

.PHONY: synth
synth: $(GEN_STAMP) ## CloudFormation templates of every stack, JSON and YAML: build/cloudformation
	$(BIN)/python -m cloudformation synth --out build/cloudformation $(STACK_FLAGS)

ENVIRONMENT ?= shopmesh
STACK_FLAGS = $(if $(EGRESS),--egress $(EGRESS)) $(if $(STORAGE),--storage $(STORAGE)) \
	$(if $(filter 1,$(TRACING)),--tracing) $(if $(SECRETS),--secrets $(SECRETS)) \
	$(if $(filter 0,$(OPERATOR)),--no-operator) $(if $(ADMIN_API_KEYS),--admin-api-keys $(ADMIN_API_KEYS)) \
	$(if $(IMPL),--impl $(IMPL))
DEPLOY_FLAGS = --environment $(ENVIRONMENT) $(if $(REGION),--region $(REGION)) $(STACK_FLAGS) \
	$(if $(filter 1,$(DRY_RUN)),--dry-run) $(if $(filter 1,$(SKIP_IMAGES)),--skip-images) \
	$(if $(CERTIFICATE_ARN),--certificate-arn $(CERTIFICATE_ARN)) \
	$(if $(PRINCIPALS),--principals $(PRINCIPALS)) $(foreach t,$(TASKS),--tasks $(t)) \
	$(if $(ALB_LOGS_BUCKET),--alb-logs-bucket $(ALB_LOGS_BUCKET))

.PHONY: deploy
deploy: $(GEN_STAMP) ## Deploy every stack with change sets (REGION=, ENVIRONMENT=, DRY_RUN=1, SKIP_IMAGES=1, CERTIFICATE_ARN=, EGRESS=nat, STORAGE=dynamodb, TASKS="catalog=3", PRINCIPALS=, ALB_LOGS_BUCKET=, OPERATOR=0, ADMIN_API_KEYS=/ssm/param)
	$(BIN)/python -m cloudformation.deploy deploy $(DEPLOY_FLAGS)

.PHONY: destroy
destroy: $(GEN_STAMP) ## Delete every stack in reverse order, ECR emptied first; DynamoDB tables kept unless DROP_DATA=1 (REGION=, ENVIRONMENT=, YES=1)
	$(BIN)/python -m cloudformation.deploy destroy --environment $(ENVIRONMENT) $(STACK_FLAGS) \
		$(if $(REGION),--region $(REGION)) $(if $(filter 1,$(YES)),--yes) \
		$(if $(filter 1,$(DROP_DATA)),--drop-data)

.PHONY: clean
clean: ## Remove generated code, build output and local data
	rm -rf gen build data .mypy_cache .ruff_cache .pytest_cache

.PHONY: distclean
distclean: clean ## Also remove .venv and node tools
	rm -rf $(VENV) tools/node_modules
