# Prometheus for the local cluster's monitoring stack, built from its Go module by
# tools/build-prometheus-operator.sh (static; Debian's package has no Kubernetes discovery).
# The Prometheus Operator runs it with its own arguments and volumes.
FROM scratch
COPY prometheus /bin/prometheus
USER 65534:65534
ENTRYPOINT ["/bin/prometheus"]
