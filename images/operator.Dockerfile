# syntax=docker/dockerfile:1
# The mcp-warden operator: reconciles McpPolicies, streams bundles to sidecars and
# injects them (the chart runs it as `operator ...`).
#
# Build from the repository root (`make images` does):
#   docker build -f images/operator.Dockerfile -t mcp-warden/operator:$(VERSION) .
# The image runs the one build the product ships (ADRs 6 and 11): the esbuild build split
# into ES-module chunks, behind the npm package's command shim — no node_modules, no
# TypeScript output.
# test/integration/images.test.ts replays this file without an engine: every COPY source
# exists, the bundle really builds, and the entrypoint starts.
ARG NODE_IMAGE=node:24-slim

# Bundle with every dependency (esbuild is a dev dependency).
FROM ${NODE_IMAGE} AS build
# The commit `mcp-warden version` reports (the build context has no .git).
ARG MCPWARDEN_COMMIT=unknown
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY cli cli
COPY policy policy
COPY sidecar sidecar
COPY operator operator
COPY protocol protocol
COPY tracing tracing
COPY tools/build-dist.ts tools/builtins-through-require.ts tools/
RUN node tools/build-dist.ts --bundle-only

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# package.json: the shim reads the Node version it needs (engines) from it.
COPY package.json ./
COPY packaging/bin bin
# The build split into chunks (ADR 11): each process loads only what its command reaches.
COPY --from=build /src/dist/bundle/esm/ lib/
# Numeric, so the kubelet can enforce runAsNonRoot without reading /etc/passwd; the same
# uid the chart and the injector set.
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/mcp-warden.cjs"]
CMD ["operator"]
