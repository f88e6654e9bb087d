#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# test-split: the bundled model's data split (tools/bundled-model/split.py) recomputed into a
# temporary folder equals the committed train.txt and heldout-patients.txt, and, read
# independently from the shared data's own metadata: no NIH image of labels.csv's official
# validation split (kept for `peac finetune --test` on unseen patients), no image of a
# held-out Hannover patient (data.csv), and nothing from JSRT, Shenzhen or Montgomery is
# in the training list. Needs $PEAC_SHARED_DIR and $PEAC_SOURCE_DIR (set by meson).
import csv
import os
import subprocess
import sys
import tempfile


def main():
    shared = os.environ.get("PEAC_SHARED_DIR")
    source = os.environ.get("PEAC_SOURCE_DIR")
    if not shared or not source:
        sys.exit("test-split: PEAC_SHARED_DIR and PEAC_SOURCE_DIR must be set")
    data = os.path.join(shared, "data")
    here = os.path.join(source, "tools", "bundled-model")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, os.path.join(here, "split.py"), "--data", data,
                        "--out", out], check=True)
        for name in ("train.txt", "heldout-patients.txt"):
            with open(os.path.join(here, name)) as a, open(os.path.join(out, name)) as b:
                assert a.read() == b.read(), f"{name}: split.py's output differs from the committed file"
    train = set(open(os.path.join(here, "train.txt")).read().split())
    heldout = {l.strip() for l in open(os.path.join(here, "heldout-patients.txt"))
               if l.strip() and not l.startswith("#")}
    assert len(heldout) == 6, heldout

    with open(os.path.join(data, "cxr", "nih-more", "labels.csv"), newline="") as f:
        nih = list(csv.DictReader(f))
    val = {f"cxr/nih-more/png_512/{r['image']}" for r in nih if r["official_split"] == "val"}
    assert len(val) == 69, len(val)
    assert not (val & train), sorted(val & train)[:3]
    nih_train = {f"cxr/nih-more/png_512/{r['image']}" for r in nih if r["official_split"] == "train"}
    assert nih_train <= train, sorted(nih_train - train)[:3]

    with open(os.path.join(data, "cxr", "hannover-covid19", "data.csv"), newline="") as f:
        han = list(csv.DictReader(f))
    for r in han:
        path = f"cxr/hannover-covid19/png/{r['image_id']}.png"
        if r["patient_id"] in heldout:
            assert path not in train, path
        elif os.path.isfile(os.path.join(data, path)):
            assert path in train, path
    for t in train:
        assert not any(w in t.lower() for w in ("jsrt", "shenzhen", "montgomery")), t
    print(f"test-split: {len(train)} training images, {len(val)} NIH validation images kept out, "
          f"{len(heldout)} Hannover patients held out")


if __name__ == "__main__":
    main()
