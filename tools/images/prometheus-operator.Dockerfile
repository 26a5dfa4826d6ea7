# The Prometheus Operator for the local cluster's monitoring stack, built from its Go module
# by tools/build-prometheus-operator.sh (static).
FROM scratch
COPY operator /bin/operator
USER 65534:65534
ENTRYPOINT ["/bin/operator"]
