# The local stand-in for node:24-slim (tools/build-images.sh): the Debian base plus the
# Node.js 24 binary `make` runs on and npm from the npm registry, under /usr/local as in
# the official image.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
ADD node.tar /
CMD ["node"]
