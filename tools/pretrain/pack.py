# SPDX-License-Identifier: GPL-3.0-or-later
#
# pack.py: the training images of a run, decoded and squeezed here exactly as train.py
# does (peac_data.load_grey at the run's image side), stored as 8-bit grey PNGs under the
# same relative paths with the text key peac_data.PACKED_KEY (the side), so that a machine
# without the shared data (a lent GPU) trains on them; train.py reads them back as
# value/255 (at most 0.5/255 from the float squeeze). MANIFEST (tab-separated: relative
# path, sha256 of the source file, side) lists them in the list's order, which is the
# order the run is given them in.
#   python3 tools/pretrain/pack.py --root DATA --list train.txt --out DIR -- TRAIN-ARGS…
import argparse
import hashlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peac_data  # noqa: E402
import train  # noqa: E402

MANIFEST = "manifest.tsv"


def side_of(train_args):
    """The image side of a new run given these train.py options."""
    a, _ = train.parse_args(list(train_args))
    vit, cfg = train.resolve(a)[:2]
    return peac_data.image_side(vit, cfg["objective"])


def pack_one(src, dst, side):
    """Writes dst; returns the sha256 of src."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    g = peac_data.load_grey(src, side)
    q = np.clip(np.rint(g.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    info = PngInfo()
    info.add_text(peac_data.PACKED_KEY, str(side))
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    tmp = f"{dst}.tmp.{os.getpid()}"
    Image.fromarray(q, mode="L").save(tmp, format="PNG", pnginfo=info)
    os.replace(tmp, dst)
    return digest


def main(argv):
    p = argparse.ArgumentParser(prog="pack.py", description="pack a run's training images "
                                "(squeezed, 8-bit grey PNG) for a machine without the data")
    p.add_argument("--root", required=True, help="the folder the list's paths are relative to")
    p.add_argument("--list", required=True, help="relative image paths, one a line")
    p.add_argument("--out", required=True, help="the packed folder (created)")
    p.add_argument("--limit", type=int, default=0, help="only the first N images (0: all)")
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then train.py's options")
    a = p.parse_args(argv)
    targs = a.train_args[1:] if a.train_args[:1] == ["--"] else a.train_args
    side = side_of(targs)
    with open(a.list) as f:
        rels = [ln.strip() for ln in f if ln.strip()]
    if a.limit:
        rels = rels[:a.limit]
    rows = []
    for r in rels:
        if os.path.isabs(r) or ".." in r.split("/"):
            print(f"pack.py: {a.list}: '{r}' is not a relative path inside {a.root}", file=sys.stderr)
            return 2
        src = os.path.join(a.root, r)
        try:
            rows.append(f"{r}\t{pack_one(src, os.path.join(a.out, r), side)}\t{side}\n")
        except (ValueError, OSError) as e:
            print(f"pack.py: {src}: {e}", file=sys.stderr)
            return 1
    with open(os.path.join(a.out, MANIFEST), "w") as f:
        f.writelines(rows)
    print(f"pack.py: {len(rows)} images squeezed to {side} px in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
