# syntax=docker/dockerfile:1
# The mcp-warden operator: reconciles McpPolicies, streams bundles to sidecars and
# injects them (the chart runs it as `operator ...`).
#
# Build from the repository root (`make images` does):
#   docker build -f images/operator.Dockerfile -t mcp-warden/operator:$(VERSION) .
# test/integration/images.test.ts replays this file without an engine: every COPY source
# exists, the production install has the entrypoint, and it starts.
ARG NODE_IMAGE=node:24-slim

# Compile TypeScript with every dependency (the compiler and types are dev dependencies).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY cli cli
COPY policy policy
COPY protocol protocol
COPY sidecar sidecar
COPY operator operator
RUN npx tsc -p tsconfig.build.json

# Production dependencies only, from the same lockfile.
FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# package.json: the CLI finds its version (and root) by it.
COPY package.json ./
COPY --from=production-dependencies /src/node_modules node_modules
COPY --from=build /src/dist/cli dist/cli
COPY --from=build /src/dist/policy dist/policy
COPY --from=build /src/dist/protocol dist/protocol
COPY --from=build /src/dist/sidecar dist/sidecar
COPY --from=build /src/dist/operator dist/operator
# Numeric, so the kubelet can enforce runAsNonRoot without reading /etc/passwd; the same
# uid the chart and the injector set.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["operator"]
