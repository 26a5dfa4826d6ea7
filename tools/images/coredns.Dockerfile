# CoreDNS for the local node, built from its Go module by tools/build-node.sh (static).
FROM scratch
COPY coredns /coredns
USER 65532:65532
ENTRYPOINT ["/coredns"]
