# A Redis for the end-to-end suite's shared rate limits, from Debian's package (the local
# Debian base here; debian:bookworm-slim elsewhere). Listens on 6379 without persistence.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*
USER 65532:65532
EXPOSE 6379
ENTRYPOINT ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]
