# The config reloader the Prometheus Operator puts beside Prometheus, built from its Go
# module by tools/build-prometheus-operator.sh (static).
FROM scratch
COPY prometheus-config-reloader /bin/prometheus-config-reloader
USER 65534:65534
ENTRYPOINT ["/bin/prometheus-config-reloader"]
