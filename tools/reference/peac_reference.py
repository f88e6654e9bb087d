# SPDX-License-Identifier: GPL-3.0-or-later
#
# peac_reference.py: our own PyTorch statement of the PEAC objective (not the paper's
# code), used to make tests/fixtures/peac_objective.safetensors, which the C engine must
# reproduce (test-peac-reference). It builds a tiny timm-layout ViT student and a teacher
# with different random weights, the heads (order Linear, 1x1-conv decoder + pixel
# shuffle, global and local projectors Linear-LN-ReLU-Linear-LN-ReLU-Linear without final
# bias), cuts two grid-aligned crops of a synthetic radiograph-like image with the
# corrected pairing rule, shuffles the cells of sample 0's crop 1 and applies a fixed
# appearance distortion to sample 1's, then writes the inputs, every weight, each loss
# term, the gradient of the total loss with respect to every student weight, and the
# teacher after one EMA step. Definitions follow src/engine/peac.h; the model, the loss
# terms and the EMA are those of the cluster trainer (tools/pretrain/peac_torch.py), so
# that test-peac-reference checks the trainer's objective against the engine's. Usage:
#   /usr/bin/python3 tools/reference/peac_reference.py OUT.safetensors
#       [--local-temp T] [--teacher-sees-shuffled 1]   (variants of the objective)
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pretrain"))
from peac_checkpoint import write_safetensors  # noqa: E402
from peac_torch import (PEAC_MEAN as MEAN, PEAC_STD as STD, ViT, Heads, batch_counts,  # noqa: E402
                        ema_momentum, objective_terms, teacher_input, teacher_outputs)

IMG, PATCH, DIM, DEPTH, HEADS, MLP = 16, 4, 16, 1, 2, 32
G = IMG // PATCH
GG = G * G
PROJ_HIDDEN, PROJ_OUT = 24, 8      # global projector
LOCAL_HIDDEN, LOCAL_OUT = 20, 12    # local projector: widths of its own
W_ORDER, W_RESTORE, W_GLOBAL, W_LOCAL = 1.0, 1.0, 1e5 / 8192, 1.0
EMA_STEP, EMA_TOTAL, MOMENTUM0 = 3, 10, 0.999


def vit_config():
    return {"img_size": IMG, "patch_size": PATCH, "in_chans": 3, "embed_dim": DIM, "depth": DEPTH,
            "num_heads": HEADS, "mlp_ratio": MLP / DIM, "layernorm_eps": 1e-6}


def heads(position=False):
    return Heads(DIM, G, PATCH, PROJ_HIDDEN, PROJ_OUT, LOCAL_HIDDEN, LOCAL_OUT, position)


def randomise(module, gen):
    # Every weight and bias random (no term hides behind a 1 or a 0).
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * 0.4)
            if p.dim() == 1 and torch.rand(1, generator=gen).item() < 0.5:
                p.add_(1.0)  # some vectors (LayerNorm weights among them) near 1


def make_inputs(gen):
    # A smooth synthetic "radiograph" with noise, on a lattice of PATCH-pixel cells.
    H, W = 40, 44
    yy, xx = torch.meshgrid(torch.arange(H, dtype=torch.float64),
                            torch.arange(W, dtype=torch.float64), indexing="ij")
    img = (0.5 + 0.3 * torch.sin(0.21 * yy + 0.13 * xx) * torch.cos(0.17 * xx)
           + 0.1 * torch.rand(H, W, generator=gen, dtype=torch.float64)).float()
    oy, ox = 1, 2                       # lattice origin
    dr = [(1, 3), (3, 2)]               # (crop 1, crop 2) row offsets in cells per sample
    dc = [(2, 1), (0, 1)]
    S = IMG
    x1, x1s, x2, perm, pair, shuffled = [], [], [], [], [], [1, 0]
    # where[k][b][i]: the centre (y, x) of the cell that token i of the student's crop k
    # shows, in the whole H × W image, scaled to [-1, 1] (crop 1 as shuffled)
    where = [[None, None], [None, None]]
    for b in range(2):
        def cut(r, c):
            y0, x0 = oy + r * PATCH, ox + c * PATCH
            return img[y0:y0 + S, x0:x0 + S].clone()
        c1, c2 = cut(dr[b][0], dc[b][0]), cut(dr[b][1], dc[b][1])
        # crop-1 cell (r, c) ↔ crop-2 cell (r + dr1 − dr2, c + dc1 − dc2) inside the grid
        pr = []
        for i in range(GG):
            r2, q2 = i // G + dr[b][0] - dr[b][1], i % G + dc[b][0] - dc[b][1]
            pr.append(r2 * G + q2 if 0 <= r2 < G and 0 <= q2 < G else -1)
        if shuffled[b]:
            p = torch.randperm(GG, generator=gen).tolist()
            cells = c1.reshape(G, PATCH, G, PATCH).permute(0, 2, 1, 3).reshape(GG, PATCH, PATCH)
            c1s = cells[p].reshape(G, G, PATCH, PATCH).permute(0, 2, 1, 3).reshape(S, S)
        else:
            p = list(range(GG))
            c1s = c1.clamp(0, 1) ** 1.7          # a fixed intensity mapping
            c1s[5:10, 3:9] = torch.rand(5, 6, generator=gen)   # and one in-painted box
        for lst, g in ((x1, c1), (x1s, c1s), (x2, c2)):
            lst.append(((g - MEAN) / STD).expand(3, S, S))
        perm.append(p)
        pair.append(pr)
        for k, cells in ((0, p), (1, list(range(GG)))):
            y0, x0 = oy + dr[b][k] * PATCH, ox + dc[b][k] * PATCH
            where[k][b] = [[2 * (y0 + (q // G + 0.5) * PATCH) / H - 1,
                            2 * (x0 + (q % G + 0.5) * PATCH) / W - 1] for q in cells]
    return (torch.stack(x1), torch.stack(x1s), torch.stack(x2), torch.tensor(perm),
            torch.tensor(pair), torch.tensor(shuffled), torch.tensor(where, dtype=torch.float32))


def objective(sv, sh, tv, th, x1, x1s, x2, perm, pair, shuffled, where, obj):
    # The trainer's statement of the objective (tools/pretrain/peac_torch.py), one process.
    batch = {"x1": x1, "x1s": x1s, "x2": x2, "perm": perm, "pair": pair, "shuffled": shuffled,
             "where": where}
    counts = batch_counts(batch)
    tout = teacher_outputs(tv, th, teacher_input(batch, obj))
    t = objective_terms(sv(torch.cat([x1s, x2])), sh, tout, batch, counts, obj)
    return t, int(counts[1])


def main():
    ap = argparse.ArgumentParser(description="the PEAC objective fixture")
    ap.add_argument("out")
    ap.add_argument("--local-temp", type=float, default=0.0,
                    help="the contrastive local term at this temperature (0: the MSE term)")
    ap.add_argument("--teacher-sees-shuffled", type=int, choices=[0, 1], default=0)
    ap.add_argument("--w-position", type=float, default=0.0,
                    help="the position head's term at this weight (0: no position head)")
    a = ap.parse_args()
    out = a.out
    obj = {"w_order": W_ORDER, "w_restore": W_RESTORE, "w_global": W_GLOBAL, "w_local": W_LOCAL,
           "local_temp": a.local_temp, "teacher_sees_shuffled": a.teacher_sees_shuffled,
           "w_position": a.w_position}
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2023)
    pos = a.w_position > 0
    sv, sh, tv, th = ViT(vit_config()), heads(pos), ViT(vit_config()), heads(pos)
    for m in (sv, sh, tv, th):
        randomise(m, gen)
    x1, x1s, x2, perm, pair, shuffled, where = make_inputs(gen)
    t, n = objective(sv, sh, tv, th, x1, x1s, x2, perm, pair, shuffled, where, obj)
    total, order, restore, glob, local = (t[k] for k in ("total", "order", "restore", "global",
                                                         "local"))
    total.backward()
    T = {"input.x1": x1, "input.x1s": x1s, "input.x2": x2, "input.perm": perm,
         "input.pair": pair, "input.shuffled": shuffled}
    if pos:
        T["input.where"] = where
        T["loss.position"] = t["position"].detach().reshape(1)
    for prefix, m in (("student.", sv), ("student_head.", sh), ("teacher.", tv),
                      ("teacher_head.", th)):
        for name, p in m.named_parameters():
            T[prefix + name] = p
            if prefix.startswith("student"):
                T["grad." + prefix + name] = p.grad
    for name, v in (("total", total), ("order", order), ("restore", restore),
                    ("global", glob), ("local", local)):
        T["loss." + name] = v.reshape(1)
    # One EMA step of the teacher at step EMA_STEP of EMA_TOTAL.
    m = ema_momentum(MOMENTUM0, EMA_TOTAL, EMA_STEP)
    with torch.no_grad():
        for prefix, t, s in (("ema.teacher.", tv, sv), ("ema.teacher_head.", th, sh)):
            for (name, pt), (_, ps) in zip(t.named_parameters(), s.named_parameters()):
                T[prefix + name] = m * pt + (1 - m) * ps
    cfg = vit_config()
    obj = {"proj_hidden": PROJ_HIDDEN, "proj_out": PROJ_OUT, "local_hidden": LOCAL_HIDDEN,
           "local_out": LOCAL_OUT, "w_order": W_ORDER,
           "w_restore": W_RESTORE, "w_global": W_GLOBAL, "w_local": W_LOCAL,
           "ema_step": EMA_STEP, "ema_total": EMA_TOTAL, "momentum0": MOMENTUM0,
           "matched_per_direction": n, "local_temp": a.local_temp,
           "teacher_sees_shuffled": a.teacher_sees_shuffled}
    if pos:
        obj["w_position"] = a.w_position
    write_safetensors(out, T, {"peac.arch": "vit", "peac.layout": "timm",
                               "peac.config": json.dumps(cfg), "peac.objective": json.dumps(obj),
                               "peac.source": "tools/reference/peac_reference.py, PyTorch "
                               + torch.__version__})
    print(f"{out}: total {total.item():.6f} order {order.item():.6f} restore "
          f"{restore.item():.6f} global {glob.item():.6f} local {local.item():.6f} "
          f"({n} matched cells per direction)")


if __name__ == "__main__":
    main()
