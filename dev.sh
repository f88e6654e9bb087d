#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The README's two commands on a fresh Debian 12 machine:
#   ./dev.sh run    install what is missing, build, launch PEAC Explorer on the samples
#   ./dev.sh test   install what is missing, build, run every test suite (GUI under Xvfb),
#                   then build a second tree with AddressSanitizer + UBSan and run the
#                   engine, io, cli, crash and fuzz suites there, then the io and the quick
#                   engine tests under valgrind (`./dev.sh test ARGS...` passes ARGS to
#                   meson test on the first tree and skips the rest)
#   ./dev.sh asan [ARGS...]      only the sanitizer tree's run
#   ./dev.sh valgrind [ARGS...]  the engine and io test programs under valgrind memcheck
# Builds go to a folder under $TMPDIR (override with PEAC_BUILD_DIR; the sanitizer tree is
# the same name with -asan), so the checkout and ../shared are never written to.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

packages=(
  build-essential g++ pkg-config meson ninja-build gettext
  libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev libadwaita-1-dev
  libopenblas-dev libjansson-dev libpng-dev libjpeg-dev libdcmtk-dev libopenjp2-7-dev
  desktop-file-utils appstream adwaita-icon-theme librsvg2-common
  xvfb xauth dcmtk libgdcm-tools valgrind libgtk-4-bin
  python3-torch python3-pydicom python3-pil
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

# The sanitizer tree: gcc's ASan + UBSan, every UBSan finding fatal (-fno-sanitize-recover),
# no GUI (its suite needs a display and GTK's own leaks would drown the project's).
build_asan() {
  build
  asandir=$builddir-asan
  if [ ! -f "$asandir/build.ninja" ]; then
    meson setup "$asandir" "$here" -Dapp=disabled -Db_sanitize=address,undefined \
      -Db_lundef=false -Dc_args=-fno-sanitize-recover=all \
      -Dcpp_args=-fno-sanitize-recover=all >&2
  fi
  ninja -C "$asandir" >&2
}

# Suppressions in tests/sanitizers/ cover libraries outside the project only.
run_asan() {
  local supp=$here/tests/sanitizers suites=() s
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0
  export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
  export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp
  # OpenBLAS's and OpenMP's worker threads are not the code under test; one thread keeps
  # the run small on a two-core machine.
  export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
  local listed
  listed=$(meson test -C "$asandir" --list 2>/dev/null)
  for s in engine io cli crash fuzz; do
    if grep -q "^peac-explorer:$s / " <<<"$listed"; then
      suites+=(--suite "$s")
    fi
  done
  meson test -C "$asandir" --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
    "${suites[@]}" "$@"
}

# Memcheck over the io suite and the engine tests that take seconds under valgrind (run by
# `./dev.sh test` too). Left out: the numerical ones (test-vit, test-swin, test-backward,
# test-tsne, test-train, test-verify, test-finetune: minutes each under valgrind),
# test-embed and test-match (3.5 and 1 min) and test-blas-kernel, whose subject is
# re-executing itself by the CPU's flags, which valgrind's CPU does not have. Run any of
# them with `./dev.sh valgrind TEST...` or `./dev.sh valgrind --suite engine`. Any invalid
# access or definite leak fails the test (exit 99); suppressions cover outside libraries.
valgrind_tests=(test-image test-png test-jpeg test-dicom test-dicom-j2k test-malformed test-landmarks
  test-train-images
  test-ops test-checkpoint test-views test-train-optim test-peac-loss test-peac-distort
  test-peac test-peac-reference test-match-vit)
run_valgrind() {
  [ $# -gt 0 ] || set -- "${valgrind_tests[@]}"
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 meson test -C "$builddir" --print-errorlogs \
    --num-processes 2 --timeout-multiplier 20 \
    --wrapper "valgrind --quiet --error-exitcode=99 --leak-check=full
      --errors-for-leak-kinds=definite --show-leak-kinds=definite
      --suppressions=$here/tests/sanitizers/valgrind.supp" "$@"
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
    if [ $# -gt 0 ]; then
      exec xvfb-run -a -s '-screen 0 1600x1000x24' \
        meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
    fi
    xvfb-run -a -s '-screen 0 1600x1000x24' \
      meson test -C "$builddir" --print-errorlogs --num-processes 2
    echo "dev.sh: the sanitizer build (ASan + UBSan)" >&2
    build_asan
    run_asan
    echo "dev.sh: valgrind memcheck (a subset, see valgrind_tests)" >&2
    run_valgrind
    ;;
  asan)
    shift
    install_missing
    build_asan
    run_asan "$@"
    ;;
  valgrind)
    shift
    install_missing
    build
    run_valgrind "$@"
    ;;
  *)
    echo "usage: $0 run [FILES...] | test [MESON-TEST-ARGS...] | asan [MESON-TEST-ARGS...]" \
         "| valgrind [MESON-TEST-ARGS...]" >&2
    exit 2
    ;;
esac
