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

.PHONY: otel-collector
otel-collector: ## build the OpenTelemetry Collector the tracing tests export to (otlp receiver, file exporter) into ~/.cache/mcp-warden
	@tools/build-otel-collector.sh >/dev/null

.PHONY: system-packages
system-packages: ## install redis-server and prometheus when missing
	@tools/ensure-system-packages.sh test

.PHONY: node
node: ## build kubelet, kube-proxy, kube-controller-manager, kube-scheduler, CoreDNS, crictl and pause into ~/.cache/mcp-warden; install containerd, runc, CNI plugins, buildah (Debian)
	@tools/ensure-system-packages.sh node
	@tools/ensure-system-packages.sh images
	@tools/build-node.sh >/dev/null

RESULTS := .mcp-warden/test-results
VITEST_REPORT = --reporter=default --reporter=json --outputFile.json=$(RESULTS)/$(1).json

.PHONY: test-unit
test-unit: $(DEPS_STAMP) ## unit tests
	@mkdir -p $(RESULTS)
	@vitest run --config vitest.unit.config.ts $(call VITEST_REPORT,unit)

.PHONY: test-integration
test-integration: build dist control-plane otel-collector system-packages ## integration tests against a real control plane
	@mkdir -p $(RESULTS)
	@MCPWARDEN_CONTROL_PLANE_BIN="$$(tools/build-control-plane.sh)" MCPWARDEN_OTEL_COLLECTOR_BIN="$$(tools/build-otel-collector.sh)" vitest run --config vitest.integration.config.ts $(call VITEST_REPORT,integration)

# Where the end-to-end suite runs, decided before anything is built: the local cluster
# (root on Linux, no other cluster running), the cluster of MCPWARDEN_E2E_CONTEXT, or
# nowhere with MCPWARDEN_E2E=skip. Anything else stops here with one line saying why.
.PHONY: e2e-preflight
e2e-preflight:
	@node test/e2e/preflight.ts >/dev/null

.PHONY: test-e2e
test-e2e: build control-plane ## the end-to-end suite on the local cluster (or MCPWARDEN_E2E_CONTEXT; MCPWARDEN_E2E=skip skips it)
	@mkdir -p $(RESULTS)
	@mode="$$(node test/e2e/preflight.ts)"; \
	if [ "$$mode" = local ]; then $(MAKE) --no-print-directory node; export MCPWARDEN_NODE_BIN="$$(tools/build-node.sh)" MCPWARDEN_PROMETHEUS_OPERATOR_BIN="$$(tools/build-prometheus-operator.sh)"; fi; \
	MCPWARDEN_CONTROL_PLANE_BIN="$$(tools/build-control-plane.sh)" vitest run --config vitest.e2e.config.ts $(call VITEST_REPORT,e2e)

.PHONY: e2e
e2e: test-e2e ## the end-to-end suite against your cluster: MCPWARDEN_E2E_CONTEXT=<kubeconfig context>, images from IMAGE_PREFIX/IMAGE_TAG

.PHONY: test
test: e2e-preflight build control-plane otel-collector system-packages typecheck lint ## everything: lint, types, unit, integration and end-to-end tests
	@rm -rf $(RESULTS)
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-integration
	@$(MAKE) --no-print-directory test-e2e
	@node tools/test-summary.ts $(RESULTS)/unit.json $(RESULTS)/integration.json $(RESULTS)/e2e.json

.PHONY: cluster
cluster: build control-plane node ## a one-node Kubernetes cluster with mcp-warden and the demo server, in the foreground (Ctrl-C stops it and cleans up)
	@MCPWARDEN_CONTROL_PLANE_BIN="$$(tools/build-control-plane.sh)" MCPWARDEN_NODE_BIN="$$(tools/build-node.sh)" node dist/test/harness/cluster-main.js

.PHONY: demo
demo: build ## the sidecar in front of a demo MCP server: 127.0.0.1:9000/mcp, metrics on :9464 (Ctrl-C stops it)
	@node dist/examples/demo/run-demo.js

.PHONY: bench
bench: build dist otel-collector ## benchmarks (start-up, policy decisions, rate limits, tool definitions, the sidecar against a bare proxy, propagation, scaling, the local cluster) into bench/results/latest.json
	@node dist/bench/main.js

.PHONY: soak
soak: build dist ## 10 minutes of mixed and hostile load against one sidecar (MCPWARDEN_SOAK_SECONDS) into bench/results/soak.json
	@node bench/soak.ts

.PHONY: clean
clean: ## remove build output (the tool cache in ~/.cache/mcp-warden stays)
	rm -rf dist .mcp-warden

# The chart's default image repositories are $(IMAGE_PREFIX)/operator and /sidecar with this default.
IMAGE_PREFIX ?= localhost/mcp-warden
IMAGE_TAG ?= $(shell node -p 'require("./package.json").version')
export IMAGE_PREFIX IMAGE_TAG
PROJECT_IMAGES := operator sidecar demo-server mockloop

.PHONY: images
images: ## build the operator, sidecar, demo server and MockLoop server images with docker or podman, else buildah here (IMAGE_PREFIX, IMAGE_TAG)
	@tools/make-images.sh $(IMAGE_PREFIX) $(IMAGE_TAG) $(PROJECT_IMAGES)

.PHONY: image-names
image-names: ## print the names `make images` gives the images
	@for name in $(PROJECT_IMAGES); do echo "$(IMAGE_PREFIX)/$$name:$(IMAGE_TAG)"; done

CHART_VERSION = $(shell node -p 'require("./package.json").version')

.PHONY: chart
chart: control-plane ## package the Helm chart, versioned as package.json, into dist/charts/mcp-warden-VERSION.tgz
	@mkdir -p dist/charts
	@"$$(tools/build-control-plane.sh)/helm" package charts/mcp-warden --version "$(CHART_VERSION)" --app-version "$(CHART_VERSION)" --destination dist/charts

.PHONY: chart-crds
chart-crds: $(DEPS_STAMP) ## regenerate the Helm chart's CRD templates from crds/
	@node tools/generate-chart-crds.ts
