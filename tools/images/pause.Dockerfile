# The pod sandbox image of the local node (containerd's sandbox_image): the static
# pause built by tools/build-node.sh.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
