# mcp-warden — every target runs on Node.js 24 (installed into ~/.cache/mcp-warden when
# the node on PATH is another version) and builds what it needs, idempotently.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

NODE_DIR := $(shell tools/ensure-node.sh)
ifeq ($(NODE_DIR),)
$(error could not provide Node.js 24 (see the message above))
endif
export PATH := $(NODE_DIR):$(CURDIR)/node_modules/.bin:$(PATH)

DEPS_STAMP := node_modules/.mcp-warden-deps
BUILD_STAMP := dist/.mcp-warden-build

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(DEPS_STAMP): package.json package-lock.json
	@echo "[deps] npm ci"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps
deps: $(DEPS_STAMP) ## install npm dependencies (npm's cache lives outside the checkout)

.PHONY: build
build: $(DEPS_STAMP) ## compile TypeScript to dist/
	@tsc -p tsconfig.build.json
	@chmod +x dist/cli/main.js dist/cli/kubectl-mcpwarden.js
	@touch $(BUILD_STAMP)

.PHONY: dist
dist: $(DEPS_STAMP) ## what ships: the esbuild bundle, the npm package (dist/mcp-warden-VERSION.tgz), single executables (dist/sea/)
	@node tools/build-dist.ts

.PHONY: typecheck
typecheck: $(DEPS_STAMP) ## type-check everything, tests included
	@tsc -p tsconfig.json --noEmit

.PHONY: lint
lint: $(DEPS_STAMP) ## eslint (incl. who may import whom) and knip (unused files, exports, dependencies; import cycles)
	@eslint --max-warnings=0 .
	@knip

.PHONY: control-plane
control-plane: ## build etcd, kube-apiserver, kubectl and helm into ~/.cache/mcp-warden
	@tools/build-control-plane.sh >/dev/null

.PHONY: system-packages
system-packages: ## install redis-server and prometheus when missing
	@tools/ensure-system-packages.sh

RESULTS := .mcp-warden/test-results
VITEST_REPORT = --reporter=default --reporter=json --outputFile.json=$(RESULTS)/$(1).json

.PHONY: test-unit
test-unit: $(DEPS_STAMP) ## unit tests
	@mkdir -p $(RESULTS)
	@vitest run --config vitest.unit.config.ts $(call VITEST_REPORT,unit)

.PHONY: test-integration
test-integration: build dist control-plane system-packages ## integration tests against a real control plane
	@mkdir -p $(RESULTS)
	@MCPWARDEN_CONTROL_PLANE_BIN="$$(tools/build-control-plane.sh)" vitest run --config vitest.integration.config.ts $(call VITEST_REPORT,integration)

.PHONY: test
test: build control-plane system-packages typecheck lint ## everything: lint, types, unit and integration tests
	@rm -rf $(RESULTS)
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-integration
	@node tools/test-summary.ts $(RESULTS)/unit.json $(RESULTS)/integration.json

.PHONY: cluster
cluster: build control-plane ## run etcd + kube-apiserver in the foreground (Ctrl-C stops it)
	@MCPWARDEN_CONTROL_PLANE_BIN="$$(tools/build-control-plane.sh)" node dist/test/harness/cluster-main.js

.PHONY: demo
demo: build ## the sidecar in front of a demo MCP server: 127.0.0.1:9000/mcp, metrics on :9464 (Ctrl-C stops it)
	@node dist/examples/demo/run-demo.js

.PHONY: bench
bench: build dist ## benchmarks (start-up, policy decisions, rate limits, tool definitions, the sidecar against a bare proxy, propagation, scaling) into bench/results/latest.json
	@node dist/bench/main.js

.PHONY: soak
soak: build dist ## 10 minutes of mixed and hostile load against one sidecar (MCPWARDEN_SOAK_SECONDS) into bench/results/soak.json
	@node bench/soak.ts

.PHONY: clean
clean: ## remove build output (the tool cache in ~/.cache/mcp-warden stays)
	rm -rf dist .mcp-warden

IMAGE_PREFIX ?= mcp-warden
IMAGE_TAG ?= $(shell node -p 'require("./package.json").version')

.PHONY: images
images: ## build the operator and sidecar images with docker or podman (IMAGE_PREFIX, IMAGE_TAG)
	@engine=""; \
	for candidate in docker podman; do \
	  if command -v "$$candidate" >/dev/null 2>&1 && "$$candidate" info >/dev/null 2>&1; then engine="$$candidate"; break; fi; \
	done; \
	if [ -z "$$engine" ]; then \
	  echo "[images] no working container engine: neither 'docker info' nor 'podman info' answers (a docker CLI without a daemon does not count); nothing built" >&2; \
	  exit 1; \
	fi; \
	for component in operator sidecar; do \
	  echo "[images] $$engine build $(IMAGE_PREFIX)/$$component:$(IMAGE_TAG)"; \
	  "$$engine" build -f "images/$$component.Dockerfile" -t "$(IMAGE_PREFIX)/$$component:$(IMAGE_TAG)" .; \
	done

CHART_VERSION = $(shell node -p 'require("./package.json").version')

.PHONY: chart
chart: control-plane ## package the Helm chart, versioned as package.json, into dist/charts/mcp-warden-VERSION.tgz
	@mkdir -p dist/charts
	@"$$(tools/build-control-plane.sh)/helm" package charts/mcp-warden --version "$(CHART_VERSION)" --app-version "$(CHART_VERSION)" --destination dist/charts

.PHONY: chart-crds
chart-crds: $(DEPS_STAMP) ## regenerate the Helm chart's CRD templates from crds/
	@node tools/generate-chart-crds.ts
