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
# teacher after one EMA step. Definitions follow src/engine/peac.h. Usage:
#   /usr/bin/python3 tools/reference/peac_reference.py OUT.safetensors
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

IMG, PATCH, DIM, DEPTH, HEADS, MLP = 16, 4, 16, 1, 2, 32
G = IMG // PATCH
GG = G * G
PROJ_HIDDEN, PROJ_OUT = 24, 8      # global projector
LOCAL_HIDDEN, LOCAL_OUT = 20, 12    # local projector: widths of its own
W_ORDER, W_RESTORE, W_GLOBAL, W_LOCAL = 1.0, 1.0, 1e5 / 8192, 1.0
MEAN, STD = 0.5056, 0.252
EMA_STEP, EMA_TOTAL, MOMENTUM0 = 3, 10, 0.999


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(DIM, eps=1e-6)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(DIM, 3 * DIM)
        self.attn.proj = nn.Linear(DIM, DIM)
        self.norm2 = nn.LayerNorm(DIM, eps=1e-6)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(DIM, MLP)
        self.mlp.fc2 = nn.Linear(MLP, DIM)

    def forward(self, x):
        b, t, d = x.shape
        dh = d // HEADS
        qkv = self.attn.qkv(self.norm1(x)).reshape(b, t, 3, HEADS, dh).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(dh), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.attn.proj(o)
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + GG, DIM))
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, DIM, PATCH, PATCH)
        self.blocks = nn.ModuleList([Block() for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(DIM, eps=1e-6)

    def forward(self, x):  # -> final-norm tokens [B, 1 + G², D]
        p = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(p.shape[0], -1, -1), p], 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


def projector(hidden, out):
    return nn.Sequential(nn.Linear(DIM, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.LayerNorm(hidden),
                         nn.ReLU(), nn.Linear(hidden, out, bias=False))


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.order = nn.Linear(DIM, GG)
        self.decoder = nn.Conv2d(DIM, 3 * PATCH * PATCH, 1)
        self.proj_global = projector(PROJ_HIDDEN, PROJ_OUT)
        self.proj_local = projector(LOCAL_HIDDEN, LOCAL_OUT)


def randomise(module, gen):
    # Every weight and bias random (no term hides behind a 1 or a 0).
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * 0.4)
            if p.dim() == 1 and torch.rand(1, generator=gen).item() < 0.5:
                p.add_(1.0)  # some vectors (LayerNorm weights among them) near 1


def nmse_rows(a, b):
    # Σ_rows ‖â − b̂‖², the L2-normalised squared distance per row, summed
    return ((F.normalize(a, dim=-1) - F.normalize(b, dim=-1)) ** 2).sum()


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
    return (torch.stack(x1), torch.stack(x1s), torch.stack(x2), torch.tensor(perm),
            torch.tensor(pair), torch.tensor(shuffled))


def objective(sv, sh, tv, th, x1, x1s, x2, perm, pair, shuffled):
    B = x1.shape[0]
    tok = sv(torch.cat([x1s, x2]))                 # student on crop 1 and crop 2
    with torch.no_grad():
        feat = tv(torch.cat([x2, x1]))[:, 1:]      # teacher on crop 2 and crop 1, eval mode
    P = tok[:, 1:]                                 # [2B, G², D]
    # order: each crop-1 token of shuffled samples classifies its original cell
    logits = sh.order(P[:B])
    labels = torch.where(shuffled[:, None].bool(), perm, torch.full_like(perm, -100))
    order = F.cross_entropy(logits.reshape(-1, GG), labels.reshape(-1), ignore_index=-100)
    # restoration of the clean crop 1
    grid = P[:B].transpose(1, 2).reshape(B, DIM, G, G)
    restored = F.pixel_shuffle(sh.decoder(grid), PATCH)
    restore = F.mse_loss(restored, x1)
    # global: Σ over both directions of the mean over samples of ‖ŝ − t̂‖²
    gs = sh.proj_global(P.mean(1))
    with torch.no_grad():
        gt = th.proj_global(feat.mean(1))
    glob = nmse_rows(gs, gt) / B
    # local: matched cells of unshuffled samples, both directions
    ls = sh.proj_local(P)
    with torch.no_grad():
        lt = th.proj_local(feat)
    a, t = [], []
    for b in range(B):
        if shuffled[b]:
            continue
        for i in range(GG):
            j = int(pair[b, i])
            if j < 0:
                continue
            a.append(ls[b, i]), t.append(lt[b, j])            # student crop 1 ↔ teacher crop 2
            a.append(ls[B + b, j]), t.append(lt[B + b, i])    # student crop 2 ↔ teacher crop 1
    n = len(a) // 2
    local = nmse_rows(torch.stack(a), torch.stack(t)) / n
    total = W_ORDER * order + W_RESTORE * restore + W_GLOBAL * glob + W_LOCAL * local
    return total, order, restore, glob, local, n


def write_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data, dt = t.float().numpy().tobytes(), "F32"   # indices too: small ints are exact
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2023)
    sv, sh, tv, th = ViT(), Heads(), ViT(), Heads()
    for m in (sv, sh, tv, th):
        randomise(m, gen)
    x1, x1s, x2, perm, pair, shuffled = make_inputs(gen)
    total, order, restore, glob, local, n = objective(sv, sh, tv, th, x1, x1s, x2, perm, pair,
                                                      shuffled)
    total.backward()
    T = {"input.x1": x1, "input.x1s": x1s, "input.x2": x2, "input.perm": perm,
         "input.pair": pair, "input.shuffled": shuffled}
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
    m = 1 - (1 - MOMENTUM0) * 0.5 * (1 + math.cos(math.pi * EMA_STEP / EMA_TOTAL))
    with torch.no_grad():
        for prefix, t, s in (("ema.teacher.", tv, sv), ("ema.teacher_head.", th, sh)):
            for (name, pt), (_, ps) in zip(t.named_parameters(), s.named_parameters()):
                T[prefix + name] = m * pt + (1 - m) * ps
    cfg = {"img_size": IMG, "patch_size": PATCH, "embed_dim": DIM, "depth": DEPTH,
           "num_heads": HEADS, "mlp_ratio": MLP / DIM, "layernorm_eps": 1e-6}
    obj = {"proj_hidden": PROJ_HIDDEN, "proj_out": PROJ_OUT, "local_hidden": LOCAL_HIDDEN,
           "local_out": LOCAL_OUT, "w_order": W_ORDER,
           "w_restore": W_RESTORE, "w_global": W_GLOBAL, "w_local": W_LOCAL,
           "ema_step": EMA_STEP, "ema_total": EMA_TOTAL, "momentum0": MOMENTUM0,
           "matched_per_direction": n}
    write_safetensors(out, T, {"peac.arch": "vit", "peac.layout": "timm",
                               "peac.config": json.dumps(cfg), "peac.objective": json.dumps(obj),
                               "peac.source": "tools/reference/peac_reference.py, PyTorch "
                               + torch.__version__})
    print(f"{out}: total {total.item():.6f} order {order.item():.6f} restore "
          f"{restore.item():.6f} global {glob.item():.6f} local {local.item():.6f} "
          f"({n} matched cells per direction)")


if __name__ == "__main__":
    main()
