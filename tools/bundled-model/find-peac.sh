# SPDX-License-Identifier: GPL-3.0-or-later
#
# find-peac.sh: sourced by recipe.sh and transfer.sh after their options are read. When
# $peac is empty it becomes the newest peac built for the checkout ($repo/_build,
# $repo/build, or dev.sh's build folder: $PEAC_BUILD_DIR, else /tmp/peac-explorer-build-
# followed by a hash of the checkout's path), else the one on PATH; without any, the
# calling script ($1) exits 1.
if [ -z "$peac" ]; then
  devbuild=${PEAC_BUILD_DIR:-${TMPDIR:-/tmp}/peac-explorer-build-$(printf '%s' "$repo" | md5sum | cut -c1-8)}
  for p in "$repo"/_build/src/cli/peac "$repo"/build/src/cli/peac "$devbuild"/src/cli/peac; do
    [ -x "$p" ] && { [ -z "$peac" ] || [ "$p" -nt "$peac" ]; } && peac=$p
  done
  [ -z "$peac" ] && peac=$(command -v peac || true)
fi
[ -x "$peac" ] || { echo "$1: no peac executable (build the project or pass --peac)" >&2; exit 1; }
