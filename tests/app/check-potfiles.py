#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks po/POTFILES.in against the sources: every C file under src/ and every .ui under
# ui/ that marks a string for translation must be listed, and every listed file must
# exist. Exits non-zero naming the offending files.
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
listed = set()
for line in (root / 'po' / 'POTFILES.in').read_text(encoding='utf-8').splitlines():
    line = line.strip()
    if line and not line.startswith('#'):
        listed.add(line)

marker_c = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|g_dngettext|ngettext)\s*\(')
marker_ui = re.compile(r'translatable="yes"')

needed = set()
for path in sorted((root / 'src').rglob('*.c')):
    if marker_c.search(path.read_text(encoding='utf-8', errors='replace')):
        needed.add(path.relative_to(root).as_posix())
for path in sorted((root / 'ui').glob('*.ui')):
    if marker_ui.search(path.read_text(encoding='utf-8')):
        needed.add(path.relative_to(root).as_posix())

missing = sorted(needed - listed)
stale = sorted(p for p in listed if not (root / p).exists())
for p in missing:
    print(f'not in po/POTFILES.in but has translatable strings: {p}')
for p in stale:
    print(f'listed in po/POTFILES.in but does not exist: {p}')
print(f'{len(needed)} source files with translatable strings, {len(listed)} listed')
sys.exit(1 if missing or stale else 0)
