#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The README's two commands on a fresh Debian 12 machine:
#   ./dev.sh run    install what is missing, build, launch PEAC Explorer on the samples
#   ./dev.sh test   install what is missing, build, run every test suite (GUI under Xvfb)
# Builds go to a folder under $TMPDIR (override with PEAC_BUILD_DIR), so the checkout and
# ../shared are never written to.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

packages=(
  build-essential g++ pkg-config meson ninja-build gettext
  libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev libadwaita-1-dev
  libopenblas-dev libjansson-dev libpng-dev libjpeg-dev libdcmtk-dev
  desktop-file-utils appstream adwaita-icon-theme librsvg2-common
  xvfb xauth dcmtk
)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "dev.sh: installing ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

build() {
  local tag
  tag=$(printf '%s' "$here" | md5sum | cut -c1-8)
  builddir=${PEAC_BUILD_DIR:-${TMPDIR:-/tmp}/peac-explorer-build-$tag}
  if [ ! -f "$builddir/build.ninja" ]; then
    meson setup "$builddir" "$here" >&2
  fi
  ninja -C "$builddir" >&2
}

case "${1:-}" in
  run)
    shift
    install_missing
    build
    export GSETTINGS_SCHEMA_DIR="$builddir/data"
    if [ $# -eq 0 ]; then
      set -- "$here"/data/samples/*.png
    fi
    exec "$builddir/src/app/peac-explorer" "$@"
    ;;
  test)
    shift
    install_missing
    build
    # The GUI suite needs a display; every suite runs under one Xvfb server.
    exec xvfb-run -a -s '-screen 0 1600x1000x24' \
      meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
    ;;
  *)
    echo "usage: $0 run [FILES...] | test [MESON-TEST-ARGS...]" >&2
    exit 2
    ;;
esac
