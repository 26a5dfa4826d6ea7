# Prometheus for the local cluster's monitoring stack, from Debian's package (the local
# Debian base here; debian:bookworm-slim elsewhere). The Prometheus Operator runs it with its
# own arguments; this image only supplies the binary.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends prometheus && rm -rf /var/lib/apt/lists/* /etc/prometheus/*
USER 65534:65534
ENTRYPOINT ["/usr/bin/prometheus"]
