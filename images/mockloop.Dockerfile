# syntax=docker/dockerfile:1
# The MockLoop MCP server from PyPI (mockloop-mcp 2.2.9), which speaks MCP on stdio only:
# `mockloop-mcp --stdio`. In a pod it runs behind the injected sidecar with
# mcpwarden.dev/upstream-transport: stdio (examples/mockloop/, ADR 12), which starts one
# process of it per MCP session through mcp-warden-launcher.
#
# Build from the repository root (`make images` does):
#   docker build -f images/mockloop.Dockerfile -t localhost/mcp-warden/mockloop:$(VERSION) .
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates && rm -rf /var/lib/apt/lists/*
# mockloop-mcp 2.2.9 breaks with the mcp releases pip picks by default; these start it.
RUN python3 -m venv /opt/mockloop && /opt/mockloop/bin/pip install --no-cache-dir --disable-pip-version-check 'mockloop-mcp==2.2.9' 'mcp==1.11.0' 'pydantic<2.12'
# Unbuffered stderr (the container's log), without pydantic's warning at every start, and
# one line per log record.
ENV PATH=/opt/mockloop/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore COLUMNS=200
# It writes its audit database (mcp_audit.db) into the working directory.
RUN mkdir -p /home/mockloop && chown 65532:65532 /home/mockloop
WORKDIR /home/mockloop
USER 65532:65532
ENTRYPOINT ["mockloop-mcp"]
CMD ["--stdio"]
