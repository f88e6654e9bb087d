#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# split.py: the deterministic data split of the bundled model (python3 standard library
# only). Held out for patient re-identification: the Hannover patients with follow-up
# pairs whose sha1(patient_id) ranks in the lowest 20 % (rounded up). Training: every
# Hannover image not of a held-out patient, plus the NIH images (cxr/nih-chestxray14 and
# cxr/nih-more) except those of cxr/nih-more/labels.csv's official `val` split, which are
# kept out of pretraining so that `peac finetune --test` scores patients the model never
# saw (NIH splits are patient-disjoint). JSRT, Shenzhen and Montgomery are never listed: their terms allow
# evaluation only. Writes train.txt (image paths relative to the shared data folder, sorted)
# and heldout-patients.txt (patient ids, sorted) beside this script, or into --out.
import argparse
import csv
import hashlib
import math
import os
import sys

FORBIDDEN = ("jsrt", "shenzhen", "montgomery", "landmarks")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "..", "shared", "data"),
                    help="the shared data folder (default: ../shared/data of the checkout)")
    ap.add_argument("--out", default=here, help="folder for train.txt and heldout-patients.txt")
    ap.add_argument("--heldout-fraction", type=float, default=0.2)
    a = ap.parse_args()
    data = os.path.normpath(a.data)

    pairs = os.path.join(data, "cxr-followup", "followup_pairs.csv")
    meta = os.path.join(data, "cxr", "hannover-covid19", "data.csv")
    for p in (pairs, meta):
        if not os.path.isfile(p):
            sys.exit(f"split.py: {p}: missing (is --data the shared data folder?)")
    with open(pairs, newline="") as f:
        followup = sorted({r["patient_id"] for r in csv.DictReader(f)})
    ranked = sorted(followup, key=lambda p: hashlib.sha1(p.encode()).hexdigest())
    heldout = set(ranked[:math.ceil(a.heldout_fraction * len(ranked))])

    train = []
    with open(meta, newline="") as f:
        for r in csv.DictReader(f):
            rel = f"cxr/hannover-covid19/png/{r['image_id']}.png"
            if r["patient_id"] in heldout:
                continue
            if not os.path.isfile(os.path.join(data, rel)):
                sys.exit(f"split.py: {os.path.join(data, rel)}: listed in {meta} but missing")
            train.append(rel)
    n_hannover = len(train)
    labels = os.path.join(data, "cxr", "nih-more", "labels.csv")
    if not os.path.isfile(labels):
        sys.exit(f"split.py: {labels}: missing (is --data the shared data folder?)")
    with open(labels, newline="") as f:
        unseen = {os.path.join("cxr", "nih-more", "png_512", r["image"]) for r in csv.DictReader(f)
                  if r["official_split"] != "train"}
    missing = [u for u in unseen if not os.path.isfile(os.path.join(data, u))]
    if missing:
        sys.exit(f"split.py: {os.path.join(data, missing[0])}: listed in {labels} but missing")
    for sub in ("cxr/nih-chestxray14", "cxr/nih-more"):
        for root, dirs, files in os.walk(os.path.join(data, sub)):
            dirs.sort()
            for name in sorted(files):
                rel = os.path.relpath(os.path.join(root, name), data)
                if name.lower().endswith(".png") and rel not in unseen:
                    train.append(rel)
    train.sort()
    bad = [t for t in train if any(w in t.lower() for w in FORBIDDEN)]
    if bad:
        sys.exit(f"split.py: evaluation-only images in the training list: {bad[:3]}")

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "train.txt"), "w") as f:
        f.write("".join(t + "\n" for t in train))
    with open(os.path.join(a.out, "heldout-patients.txt"), "w") as f:
        f.write("# Hannover patients held out of training for re-identification (split.py)\n")
        f.write("".join(p + "\n" for p in sorted(heldout)))
    print(f"split.py: {len(train)} training images ({n_hannover} Hannover, "
          f"{len(train) - n_hannover} NIH, {len(unseen)} NIH validation images kept out); {len(heldout)} of {len(followup)} follow-up "
          f"patients held out")


if __name__ == "__main__":
    main()
