#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# plot.py LOSS.csv CURVE.csv OUT.png: the model card's figure — the training loss (total and
# each term, from peac train's log.csv, smoothed over 50 steps) and the learning curve
# (landmark mean radial error of the teacher against the identity baseline, from
# recipe.sh's learning-curve.csv). Needs matplotlib; exits 3 without it so that recipe.sh
# falls back to the CSV files.
import csv
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit(3)


def smooth(v, k=50):
    out, acc = [], 0.0
    for i, x in enumerate(v):
        acc += x
        if i >= k:
            acc -= v[i - k]
        out.append(acc / min(i + 1, k))
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: plot.py LOSS.csv CURVE.csv OUT.png")
    rows = list(csv.DictReader(open(sys.argv[1])))
    curve = list(csv.DictReader(open(sys.argv[2])))
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    steps = [int(r["step"]) for r in rows]
    for key in ("total", "order", "restore", "global", "local"):
        # Log scale: a term that is 0 (e.g. no cell-shuffled sample yet) is not drawn.
        a.plot(steps, [v if v > 0 else float("nan") for v in smooth([float(r[key]) for r in rows])],
               label=key)
    a.set_yscale("log")
    a.set_xlabel("step")
    a.set_title("training loss (50-step mean)")
    a.legend()
    cs = [int(r["step"]) for r in curve]
    b.plot(cs, [float(r["mre_px"]) for r in curve], "o-", label="model (guided)")
    b.plot(cs, [float(r["nearest_mre_px"]) for r in curve], "o-", label="model (nearest)")
    b.plot(cs, [float(r["identity_mre_px"]) for r in curve], "--", label="identity")
    b.plot(cs, [float(r["ncc_mre_px"]) for r in curve], ":", label="pixel NCC")
    b.set_xlabel("step")
    b.set_ylabel("mean radial error (px, 1024 frame)")
    b.set_title("landmarks, JSRT pairs")
    b.legend()
    fig.tight_layout()
    fig.savefig(sys.argv[3], dpi=100)


if __name__ == "__main__":
    main()
