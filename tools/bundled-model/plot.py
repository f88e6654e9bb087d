#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# plot.py LOSS.csv CURVE.csv OUT.png: the model card's figure — the training loss (total and
# each term, the position term where the run had it, from peac train's log.csv, smoothed
# over 50 steps) and the learning curve from
# recipe.sh's learning-curve.csv: the teacher's guided landmark error beside the random-init
# and identity baselines on the same pairs (its own panel, so that a few pixels show), and
# the nearest-token error beside pixel NCC, and landmark retrieval (top-1, model and random
# init) where the curve has it; curves over images seen. Needs matplotlib; exits 3 without it so that
# recipe.sh falls back to the CSV files.
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
    has_retrieval = curve and "retrieval_top1" in curve[0]
    fig, axes = plt.subplots(1, 4 if has_retrieval else 3, figsize=(20 if has_retrieval else 15, 4))
    a, b, c = axes[:3]
    steps = [int(r["step"]) for r in rows]
    # The position term where the log has it and the run had the head (not all zero).
    keys = ["total", "order", "restore", "global", "local"]
    if rows and any(float(r.get("position") or 0) > 0 for r in rows):
        keys.append("position")
    for key in keys:
        # Log scale: a term that is 0 (e.g. no cell-shuffled sample yet) is not drawn.
        a.plot(steps, [v if v > 0 else float("nan") for v in smooth([float(r[key]) for r in rows])],
               label=key)
    a.set_yscale("log")
    a.set_xlabel("step")
    a.set_title("training loss (50-step mean)")
    a.legend()
    # Images seen: the newer curve has the column; older ones called it views.
    cs = [int(r.get("images") or r["views"]) for r in curve]
    def col(key):
        return [float(r[key]) for r in curve]
    b.plot(cs, col("mre_px"), "o-", label="model (guided)")
    b.plot(cs, col("random_mre_px"), "s--", label="random init (guided)")
    if curve and "affine_mre_px" in curve[0]:
        b.plot(cs, col("affine_mre_px"), "d-", label="model (affine registration only)")
    b.plot(cs, col("identity_mre_px"), ":", label="identity")
    b.set_xlabel("images seen")
    b.set_ylabel("mean radial error (px, 1024 frame)")
    b.set_title("landmarks, JSRT pairs: guided")
    b.legend()
    c.plot(cs, col("nearest_mre_px"), "o-", label="model (nearest token)")
    c.plot(cs, col("ncc_mre_px"), ":", label="pixel NCC")
    if curve and "scaled_nearest_mre_px" in curve[0]:
        c.plot(cs, col("scaled_nearest_mre_px"), "^-",
               label=f"model (nearest), fed at {curve[0]['train_scale']} px")
    c.set_xlabel("images seen")
    c.set_title("landmarks, JSRT pairs: nearest match")
    c.legend()
    if has_retrieval:
        d = axes[3]
        d.plot(cs, col("retrieval_top1"), "o-", label="model, top-1")
        d.plot(cs, col("random_retrieval_top1"), "s--", label="random init, top-1")
        d.plot(cs, col("retrieval_top5"), "o-", alpha=0.5, label="model, top-5")
        d.plot(cs, col("random_retrieval_top5"), "s--", alpha=0.5, label="random init, top-5")
        d.set_xlabel("images seen")
        d.set_title("landmark retrieval among B's 166 landmarks")
        d.legend()
    fig.tight_layout()
    fig.savefig(sys.argv[3], dpi=100)


if __name__ == "__main__":
    main()
