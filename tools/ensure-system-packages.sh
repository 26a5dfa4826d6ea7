#!/usr/bin/env bash
# Installs the Debian packages a group of targets needs, only when something is missing:
#   test    redis-server, prometheus (tests start their own instances on free ports)
#   node    containerd, runc, the CNI plugins, iptables (the local node of `make cluster`)
#   images  buildah, debootstrap (`make images` without a docker or podman engine)
# Nothing here starts a service: a policy-rc.d refuses every start during the install,
# and containerd's unit is disabled afterwards, because `make cluster` runs its own
# containerd inside a namespace of its own and none may run on the host.
set -euo pipefail

group="${1:-test}"
case "$group" in
  test) wanted=(redis-server=redis-server prometheus=prometheus) ;;
  node) wanted=(containerd=containerd runc=runc /usr/lib/cni/bridge=containernetworking-plugins iptables=iptables) ;;
  images) wanted=(buildah=buildah debootstrap=debootstrap) ;;
  *) echo "[system] error: unknown group '$group' (test, node or images)" >&2; exit 2 ;;
esac

missing=()
for entry in "${wanted[@]}"; do
  thing="${entry%%=*}" package="${entry#*=}"
  if [[ "$thing" == /* ]]; then [ -x "$thing" ] && continue
  else command -v "$thing" >/dev/null 2>&1 && continue
  fi
  missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "[system] error: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
  exit 1
fi
echo "[system] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt_log="$(mktemp)"
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$apt_log" 2>&1; then
  cat "$apt_log" >&2; rm -f "$apt_log"; exit 1
fi
rm -f "$apt_log"
if [[ " ${missing[*]} " == *" containerd "* ]]; then
  # Not at the next boot either (what `systemctl disable` removes; no systemd may run here).
  rm -f /etc/systemd/system/multi-user.target.wants/containerd.service
fi
