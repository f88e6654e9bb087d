#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tsne_sklearn: benchmarks `peac tsne` against scikit-learn's Barnes-Hut TSNE on the same
# N×768 embeddings (a seeded mixture of clusters with anisotropic, low-rank noise, like
# pooled ViT embeddings of several anatomical regions). Both run perplexity 30, the same
# iterations, PCA init, learning rate "auto", θ = 0.5, on the same number of threads.
# Prints N, KL (ours / sklearn), trustworthiness at k = 10 of both layouts, wall times and
# the speed ratio. Not a test: run it by hand, e.g.
#   /usr/bin/python3 tools/bench/tsne_sklearn.py --peac build/src/cli/peac --sizes 1000,5000
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_embeddings(n, dim, seed):
    """Mixture of 5 super-clusters × 4 sub-clusters with unequal sizes; each sub-cluster
    spreads along its own 24 random directions with decaying scales plus isotropic noise;
    a shared offset and a per-point norm jitter mimic the geometry of pooled embeddings."""
    rng = np.random.default_rng(seed)
    n_super, n_sub, rank = 5, 4, 24
    supers = rng.normal(0.0, 1.0, (n_super, dim)) * 0.9
    centres, bases, scales = [], [], []
    for s in range(n_super):
        for _ in range(n_sub):
            centres.append(supers[s] + rng.normal(0.0, 0.45, dim))
            q, _ = np.linalg.qr(rng.normal(size=(dim, rank)))
            bases.append(q.T)
            scales.append(np.geomspace(1.2, 0.1, rank) * rng.uniform(0.6, 1.4))
    k = n_super * n_sub
    weights = rng.dirichlet(np.full(k, 2.0))
    labels = rng.choice(k, size=n, p=weights)
    X = np.empty((n, dim), dtype=np.float64)
    for c in range(k):
        idx = np.flatnonzero(labels == c)
        z = rng.normal(size=(idx.size, rank)) * scales[c]
        X[idx] = centres[c] + z @ bases[c] + rng.normal(0.0, 0.12, (idx.size, dim))
    X += rng.normal(0.0, 0.5, dim)                          # shared offset
    X *= rng.uniform(0.9, 1.1, (n, 1))                       # norm jitter
    return X.astype(np.float32), labels


def trustworthiness(X, Y, k=10, chunk=1024):
    """Exact trustworthiness (Venna & Kaski), computed in row chunks so that N = 20000
    needs no N×N matrix: T = 1 − 2/(n k (2n − 3k − 1)) Σ_i Σ_{j ∈ U_i} (r(i, j) − k), with
    U_i the map's k nearest neighbours of i that are not among its input-space k nearest,
    r(i, j) the rank of j by input distance from i (1 = nearest). Matches
    sklearn.manifold.trustworthiness (checked against it at the smallest size)."""
    X = X.astype(np.float64)
    n = X.shape[0]
    sq = np.einsum("ij,ij->i", X, X)
    Ysq = np.einsum("ij,ij->i", Y, Y)
    total = 0.0
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        dX = sq[a:b, None] + sq[None, :] - 2.0 * X[a:b] @ X.T
        dY = Ysq[a:b, None] + Ysq[None, :] - 2.0 * Y[a:b].astype(np.float64) @ Y.T.astype(np.float64)
        rows = np.arange(b - a)
        dX[rows, rows + a] = np.inf
        dY[rows, rows + a] = np.inf
        nnY = np.argpartition(dY, k, axis=1)[:, :k]
        dj = np.take_along_axis(dX, nnY, axis=1)
        # rank r(i, j) = 1 + #{l : d(i, l) < d(i, j)}
        ranks = np.empty_like(nnY)
        for r in range(b - a):
            ranks[r] = 1 + np.searchsorted(np.sort(dX[r]), dj[r], side="left")
        pen = ranks - k
        total += pen[pen > 0].sum()
    return 1.0 - total * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))


def run_sklearn(X, iters, threads, seed):
    from sklearn.manifold import TSNE
    t = TSNE(n_components=2, perplexity=30.0, n_iter=iters, init="pca", learning_rate="auto",
             method="barnes_hut", angle=0.5, n_jobs=threads, random_state=seed)
    t0 = time.perf_counter()
    Y = t.fit_transform(X)
    return Y, float(t.kl_divergence_), time.perf_counter() - t0


def run_peac(peac, npy, iters, threads, seed, out_csv):
    cmd = [peac, "tsne", "--matrix", npy, "--json", "-o", out_csv, "--iters", str(iters),
           "--threads", str(threads), "--seed", str(seed), "--perplexity", "30", "--theta", "0.5"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    info = json.loads(res.stdout)
    Y = np.loadtxt(out_csv, delimiter=",", skiprows=1, dtype=np.float32)
    return Y, info["kl_divergence"], wall, info


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--peac", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                   "build", "src", "cli", "peac"))
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None, help="keep the .npy files here")
    ap.add_argument("--skip-sklearn", action="store_true")
    args = ap.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    tmp = tempfile.TemporaryDirectory(prefix="tsne-bench-")
    data_dir = args.data_dir or tmp.name
    os.makedirs(data_dir, exist_ok=True)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        X, _ = make_embeddings(n, args.dim, args.seed + n)
        npy = os.path.join(data_dir, f"emb-{n}x{args.dim}-seed{args.seed + n}.npy")
        np.save(npy, X)
        Yp, klp, tp, info = run_peac(args.peac, npy, args.iters, args.threads, args.seed,
                                     os.path.join(tmp.name, f"peac-{n}.csv"))
        trp = trustworthiness(X, Yp)
        if args.skip_sklearn:
            kls = trs = ts = float("nan")
        else:
            Ys, kls, ts = run_sklearn(X, args.iters, args.threads, args.seed)
            trs = trustworthiness(X, Ys)
            if n <= 2000:
                from sklearn.manifold import trustworthiness as sk_trust
                ref = sk_trust(X, Ys, n_neighbors=10)
                assert abs(ref - trs) < 1e-9, (ref, trs)
        rows.append((n, klp, kls, trp, trs, tp, ts))
        print(f"N={n}: peac KL {klp:.4f} T {trp:.4f} {tp:.1f}s "
              f"(affinities {info['seconds']['affinities']:.1f}s, optimise "
              f"{info['seconds']['optimise']:.1f}s) | sklearn KL {kls:.4f} T {trs:.4f} {ts:.1f}s",
              file=sys.stderr, flush=True)
    print(f"{'N':>6} | {'KL peac':>8} {'KL sk':>8} {'ratio':>6} | {'T10 peac':>8} {'T10 sk':>8}"
          f" | {'peac s':>7} {'sk s':>7} {'speed-up':>8}")
    for n, klp, kls, trp, trs, tp, ts in rows:
        print(f"{n:>6} | {klp:8.4f} {kls:8.4f} {klp / kls:6.3f} | {trp:8.4f} {trs:8.4f}"
              f" | {tp:7.1f} {ts:7.1f} {ts / tp:7.2f}x")


if __name__ == "__main__":
    main()
