# The local stand-in for debian:bookworm-slim (tools/build-images.sh): a Debian minbase
# root filesystem made by debootstrap from the machine's own Debian mirror. Nothing is pulled.
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["bash"]
