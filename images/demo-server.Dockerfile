# syntax=docker/dockerfile:1
# The demo MCP server (examples/demo/) speaking Streamable HTTP on port 8080, for a pod
# beside the injected sidecar (`make cluster`, examples/demo/kubernetes/). Node 24 runs the
# TypeScript sources as they are (type stripping), so there is no build stage.
#
# Build from the repository root (`make images` does):
#   docker build -f images/demo-server.Dockerfile -t localhost/mcp-warden/demo-server:$(VERSION) .
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# package.json: "type": "module" for the sources.
COPY package.json ./
COPY --from=production-dependencies /src/node_modules node_modules
COPY examples/demo/demo-server.ts examples/demo/demo-tools.ts examples/demo/
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "/app/examples/demo/demo-server.ts"]
CMD ["--http", "0.0.0.0:8080"]
