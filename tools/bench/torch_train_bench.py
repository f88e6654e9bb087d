# SPDX-License-Identifier: GPL-3.0-or-later
#
# torch_train_bench: the PyTorch peer of `peac bench`'s training rows. One PEAC training
# step with the engine's shapes and defaults (src/engine/peac.c, train.c): the student ViT
# or Swin (the plain modules of torch_bench.py; the token grid is the ViT's patches without
# the class token, the Swin's final stage) runs forward and backward on both crops of every
# sample as one batch of 2B, the EMA teacher runs forward on both crops without gradients,
# and the four heads follow — order Linear(D → G²) with cross-entropy on the shuffled half,
# restoration Linear(D → 3·cell²) + pixel shuffle with MSE (cell: 16 px, Swin 32 px), global and local projectors
# Linear–LN–ReLU–Linear–LN–ReLU–Linear(no bias) of widths 2D-2D-D with the MSE of
# L2-normalised outputs in both directions over matched cells — then gradient clipping at
# 3, AdamW (lr 5e-4, wd 0.05) on backbone and heads, and the teacher's EMA. Random inputs
# and a fixed cell pairing stand in for real crops (the step's cost does not depend on
# them). Prints one JSON object {"model", "batch", "torch_ms", "threads",
# "torch_version"}: the median of up to --reps timed steps (at least 3, fewer than --reps
# once --budget seconds are spent) after --warmup untimed ones. --threads 0 leaves torch's
# default thread count. Run with Debian's interpreter: /usr/bin/python3.
import argparse
import copy
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import Swin, Vit  # noqa: E402  (the same modules as the inference peer)

# name: (backbone, input side, cell of the token grid, width)
MODELS = {
    "vit_tiny": (lambda: Vit(192, 12, 3), 224, 16, 192),
    "vit_small": (lambda: Vit(384, 12, 6), 224, 16, 384),
    "vit_base": (lambda: Vit(768, 12, 12), 224, 16, 768),
    "swin_tiny": (lambda: Swin(96, (2, 2, 6, 2), (3, 6, 12, 24), img=224), 224, 32, 768),
}


def projector(d, hidden, out):
    return nn.Sequential(nn.Linear(d, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                         nn.Linear(hidden, out, bias=False))


class Peac(nn.Module):
    def __init__(self, name):
        super().__init__()
        make, img, cell, dim = MODELS[name]
        self.g = img // cell
        self.patch = cell
        self.swin = name.startswith("swin")
        self.backbone = make()
        self.order = nn.Linear(dim, self.g * self.g)
        self.decoder = nn.Linear(dim, 3 * cell * cell)
        self.proj_global = projector(dim, 2 * dim, dim)
        self.proj_local = projector(dim, 2 * dim, dim)

    def patches(self, x):
        if self.swin:
            return self.backbone(x).flatten(1, 2)    # [n, G², D], the final stage's grid
        return self.backbone(x)[:, 1:]               # [n, G², D], class token dropped


def nmse(a, b):
    """Σ over rows of ‖â − b̂‖², divided by rows: 2·O·(the engine's element mean)."""
    return (F.normalize(a, dim=-1) - F.normalize(b, dim=-1)).pow(2).sum(-1).mean()


def make_batch(B, G, S, gen):
    x1 = torch.randn(B, 3, S, S, generator=gen)
    x1s = torch.randn(B, 3, S, S, generator=gen)
    x2 = torch.randn(B, 3, S, S, generator=gen)
    shuffled = torch.arange(B) < B // 2              # half the samples cell-shuffled
    perm = torch.stack([torch.randperm(G * G, generator=gen) for _ in range(B)])
    # Unshuffled samples: crop-1 cell (r, c) ↔ crop-2 cell (r − 1, c − 2), inside the grid.
    r, c = torch.meshgrid(torch.arange(G), torch.arange(G), indexing="ij")
    ok = (r >= 1) & (c >= 2)
    i = (r * G + c)[ok]
    j = ((r - 1) * G + (c - 2))[ok]
    bs = torch.nonzero(~shuffled).flatten()
    s1 = (bs[:, None] * G * G + i[None]).flatten()   # student crop-1 rows
    t2 = (bs[:, None] * G * G + j[None]).flatten()   # teacher crop-2 rows (teacher batch 0…B−1)
    s2 = ((B + bs)[:, None] * G * G + j[None]).flatten()  # student crop-2 rows
    t1 = ((B + bs)[:, None] * G * G + i[None]).flatten()  # teacher crop-1 rows
    return x1, x1s, x2, shuffled, perm, (s1, t2, s2, t1)


def step(student, teacher, opt, params, batch, B):
    x1, x1s, x2, shuffled, perm, (s1, t2, s2, t1) = batch
    G, p, D = student.g, student.patch, student.order.in_features
    P = student.patches(torch.cat([x1s, x2]))        # [2B, G², D]
    with torch.no_grad():
        T = teacher.patches(torch.cat([x2, x1]))
    logits = student.order(P[:B])[shuffled]        # the head on every crop-1 token, as the engine
    order = F.cross_entropy(logits.reshape(-1, G * G), perm[shuffled].reshape(-1))
    dec = student.decoder(P[:B]).reshape(B, G, G, 3, p, p).permute(0, 3, 1, 4, 2, 5)
    restore = F.mse_loss(dec.reshape(B, 3, G * p, G * p), x1)
    ga = student.proj_global(P.mean(1))
    with torch.no_grad():
        gt = teacher.proj_global(T.mean(1))
    glob = nmse(ga, gt) * 2
    la = student.proj_local(P.reshape(-1, D))
    with torch.no_grad():
        lt = teacher.proj_local(T.reshape(-1, D))
    local = nmse(torch.cat([la[s1], la[s2]]), torch.cat([lt[t2], lt[t1]])) * 2
    loss = order + restore + (1e5 / 8192) * glob + local
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 3.0)
    opt.step()
    with torch.no_grad():
        tp = [q for q in teacher.parameters()]
        torch._foreach_mul_(tp, 0.999)
        torch._foreach_add_(tp, params, alpha=0.001)
    return loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="vit_tiny", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads; 0 = default")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5, help="at most this many timed steps")
    ap.add_argument("--budget", type=float, default=30.0,
                    help="stop after 3 steps once this many seconds are spent")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    student = Peac(args.model).train()
    teacher = copy.deepcopy(student).eval()
    for q in teacher.parameters():
        q.requires_grad_(False)
    params = [q for q in student.parameters()]
    opt = torch.optim.AdamW(params, lr=5e-4, weight_decay=0.05)
    gen = torch.Generator().manual_seed(1)
    batch = make_batch(args.batch, student.g, student.g * student.patch, gen)
    times = []
    for _ in range(args.warmup):
        step(student, teacher, opt, params, batch, args.batch)
    while len(times) < args.reps and (len(times) < 3 or sum(times) < args.budget):
        t0 = time.perf_counter()
        step(student, teacher, opt, params, batch, args.batch)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"model": args.model, "batch": args.batch,
                      "torch_ms": 1e3 * statistics.median(times),
                      "threads": torch.get_num_threads(), "torch_version": torch.__version__}),
          flush=True)


if __name__ == "__main__":
    main()
