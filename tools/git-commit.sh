#!/usr/bin/env bash
# The commit an image or build names (as tools/build-dist.ts does): the short hash, with
# -dirty when tracked files have uncommitted changes; `unknown` outside a git checkout.
#   tools/git-commit.sh [DIR]
set -euo pipefail
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
if commit="$(git -C "$dir" rev-parse --short=12 HEAD 2>/dev/null)"; then
  [ -z "$(git -C "$dir" status --porcelain --untracked-files=no)" ] || commit="$commit-dirty"
  echo "$commit"
else
  echo unknown
fi
