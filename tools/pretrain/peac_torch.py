# SPDX-License-Identifier: GPL-3.0-or-later
#
# peac_torch: the PEAC objective of the engine (src/engine/peac.h) in PyTorch — one
# statement used both by the fixture script (tools/reference/peac_reference.py, checked
# against the C engine by test-peac-reference) and by the cluster trainer
# (tools/pretrain/train.py). It owns the timm-layout ViT (parameter names and order as the
# engine's table: cls_token, pos_embed, patch_embed, blocks, norm), the heads (order
# Linear, 1×1-conv decoder + pixel shuffle, global and local projectors
# Linear-LN-ReLU-Linear-LN-ReLU-Linear without final bias), the four loss terms with the
# engine's per-batch normalisations, the EMA momentum, the warm-up + cosine learning rate,
# and AdamW / SGD updates written as the engine's optim.c writes them (moments kept in the
# engine's flat layout (params.c: tensors 16-float aligned), weight decay only on matrices except cls_token and pos_embed).
#
# Distributed runs: the terms that are normalised by a count over the batch (the order
# cross-entropy over the labelled tokens, the local term over the matched cells) take the
# count of the whole global batch (all-reduced by the caller) and are scaled by the world
# size, so that DDP's mean of the per-rank gradients equals the gradient of one process on
# the whole batch; restoration and the global term are means over equal per-rank shares
# and need nothing.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PEAC_MEAN, PEAC_STD = 0.5056, 0.252


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_hidden, qkv_bias=True, eps=1e-6):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.attn.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(dim, mlp_hidden)
        self.mlp.fc2 = nn.Linear(mlp_hidden, dim)

    def forward(self, x):
        b, t, d = x.shape
        dh = d // self.heads
        qkv = self.attn.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(dh), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.attn.proj(o)
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class ViT(nn.Module):
    """A timm-layout ViT from the engine's peac.config keys (img_size, patch_size, in_chans,
    embed_dim, depth, num_heads, mlp_ratio, qkv_bias, layernorm_eps)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        D, P = cfg["embed_dim"], cfg["patch_size"]
        G = cfg["img_size"] // P
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + G * G, D))
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(cfg.get("in_chans", 3), D, P, P)
        hidden = int(round(D * cfg.get("mlp_ratio", 4.0)))
        self.blocks = nn.ModuleList([Block(D, cfg["num_heads"], hidden, cfg.get("qkv_bias", True),
                                           cfg.get("layernorm_eps", 1e-6))
                                     for _ in range(cfg["depth"])])
        self.norm = nn.LayerNorm(D, eps=cfg.get("layernorm_eps", 1e-6))

    def forward(self, x):  # -> final-norm tokens [B, 1 + G², D]
        p = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(p.shape[0], -1, -1), p], 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


def projector(dim, hidden, out):
    return nn.Sequential(nn.Linear(dim, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.LayerNorm(hidden),
                         nn.ReLU(), nn.Linear(hidden, out, bias=False))


class Heads(nn.Module):
    def __init__(self, dim, grid, patch, proj_hidden, proj_out, local_hidden, local_out,
                 position=False):
        super().__init__()
        self.patch = patch
        self.order = nn.Linear(dim, grid * grid)
        self.decoder = nn.Conv2d(dim, 3 * patch * patch, 1)
        self.proj_global = projector(dim, proj_hidden, proj_out)
        self.proj_local = projector(dim, local_hidden, local_out)
        # The position head (objective w_position > 0): each token's cell centre in the
        # whole image, (y, x) in [-1, 1].
        if position:
            self.position = nn.Linear(dim, 2)


class Student(nn.Module):
    """Backbone and heads of the student as one module, so that DDP sees every weight."""

    def __init__(self, vit, heads):
        super().__init__()
        self.backbone, self.heads = vit, heads

    def forward(self, xs, tout, batch, counts, obj, world=1):
        return objective_terms(self.backbone(xs), self.heads, tout, batch, counts, obj, world)


def nmse_rows(a, b):
    # Σ_rows ‖â − b̂‖², the L2-normalised squared distance per row, summed (the engine adds
    # 1e-12 to each norm)
    na = a / (a.norm(dim=-1, keepdim=True) + 1e-12)
    nb = b / (b.norm(dim=-1, keepdim=True) + 1e-12)
    return ((na - nb) ** 2).sum()


def local_targets(pair, shuffled):
    """For the 2B·G² student rows [crop 1 ; crop 2], the teacher row each is compared with
    (-1: none): student crop-1 cell i ↔ teacher crop-2 cell pair[i] (teacher row b·G² + j),
    student crop-2 cell j ↔ teacher crop-1 cell i (row (B + b)·G² + i), for unshuffled
    samples only. Returns (targets [2B·G²] long, labels [2B·G²] long: the partner's cell
    index within its crop, for the contrastive term)."""
    B, GG = pair.shape
    tgt = torch.full((2 * B * GG,), -1, dtype=torch.long)
    lab = torch.full((2 * B * GG,), -1, dtype=torch.long)
    for b in range(B):
        if int(shuffled[b]):
            continue
        i = torch.arange(GG)
        j = pair[b].long()
        ok = j >= 0
        i, j = i[ok], j[ok]
        tgt[b * GG + i] = b * GG + j
        lab[b * GG + i] = j
        tgt[(B + b) * GG + j] = (B + b) * GG + i
        lab[(B + b) * GG + j] = i
    return tgt, lab


def batch_counts(batch):
    """The counts the terms are normalised by, for this process's share of the batch:
    [labelled order tokens, matched cells per direction]."""
    shuffled, pair = batch["shuffled"], batch["pair"]
    GG = pair.shape[1]
    n_order = int(shuffled.sum()) * GG
    n_matched = int(((pair >= 0) & (shuffled[:, None] == 0)).sum())
    return torch.tensor([n_order, n_matched], dtype=torch.float64)


@torch.no_grad()
def teacher_outputs(teacher, heads, x):
    """The teacher's side of the consistency terms (eval mode, no gradient): the global
    projection of the mean patch token [2B, O] and the local projection of every patch
    token [2B·G², Ol]."""
    feat = teacher(x)[:, 1:].float()
    return heads.proj_global(feat.mean(1)), heads.proj_local(feat).reshape(-1, heads.proj_local[-1].out_features)


def teacher_input(batch, obj):
    """[x2 ; x1] — or the student's shuffled crop 1 for shuffled samples when
    teacher_sees_shuffled."""
    x1 = batch["x1"]
    if obj.get("teacher_sees_shuffled", 0):
        sh = batch["shuffled"].bool()[:, None, None, None]
        x1 = torch.where(sh, batch["x1s"], x1)
    return torch.cat([batch["x2"], x1])


def objective_terms(tok, sh, tout, batch, counts, obj, world=1):
    """The loss terms of the engine on a batch: tok = student tokens of [x1s ; x2] (with
    the class token), tout = teacher_outputs() of teacher_input(). counts = the global
    batch's batch_counts (summed over ranks). Returns a dict of 0-dim tensors: order,
    restore, global, local (unweighted, each this rank's share × world so that the mean
    over ranks is the global value) and total (weighted)."""
    # Under bf16 autocast the heads' outputs are bf16: every term is reduced in float32.
    tok = tok.float()
    gt, lt = tout[0].float(), tout[1].float()
    B = batch["x1"].shape[0]
    P = tok[:, 1:]
    GG, D = P.shape[1], P.shape[2]
    G = int(round(math.sqrt(GG)))
    n_order, n_matched = float(counts[0]), float(counts[1])
    # order: each crop-1 token of shuffled samples classifies its original cell
    labels = torch.where(batch["shuffled"][:, None].bool(), batch["perm"].long(),
                         torch.full_like(batch["perm"].long(), -1)).to(P.device)
    logits = sh.order(P[:B]).float()
    ce = F.cross_entropy(logits.reshape(-1, GG), labels.reshape(-1), ignore_index=-1,
                         reduction="sum")
    order = ce * (world / n_order) if n_order > 0 else ce * 0.0
    # restoration of the clean crop 1
    grid = P[:B].transpose(1, 2).reshape(B, D, G, G)
    restored = F.pixel_shuffle(sh.decoder(grid), sh.patch).float()
    restore = F.mse_loss(restored, batch["x1"])
    # global: Σ over both directions of the mean over samples of ‖ŝ − t̂‖²
    gs = sh.proj_global(P.mean(1)).float()
    glob = nmse_rows(gs, gt) / B
    # local: matched cells of unshuffled samples, both directions
    ls = sh.proj_local(P).reshape(2 * B * GG, -1).float()
    tgt, lab = local_targets(batch["pair"], batch["shuffled"])
    tgt, lab = tgt.to(P.device), lab.to(P.device)
    keep = tgt >= 0
    tau = obj.get("local_temp", 0.0)
    if tau > 0:
        # dense InfoNCE: student row (s, i) against every teacher cell of row group s
        la = ls / (ls.norm(dim=-1, keepdim=True) + 1e-12)
        kt = lt / (lt.norm(dim=-1, keepdim=True) + 1e-12)
        lg = torch.bmm(la.reshape(2 * B, GG, -1), kt.reshape(2 * B, GG, -1).transpose(1, 2)) / tau
        s = F.cross_entropy(lg.reshape(-1, GG), lab, ignore_index=-1, reduction="sum")
        count = 2 * n_matched
    else:
        # an empty selection still leaves the projector in the graph (zero gradients),
        # so that DDP sees every weight used on every rank
        s = nmse_rows(ls[keep], lt[tgt[keep]])
        count = n_matched
    local = s * (world / count) if count > 0 else s * 0.0
    total = (obj["w_order"] * order + obj["w_restore"] * restore + obj["w_global"] * glob
             + obj["w_local"] * local)
    terms = {"total": total, "order": order, "restore": restore, "global": glob, "local": local}
    if obj.get("w_position", 0.0) > 0:
        # position: every student token of [x1s ; x2] against batch["where"] [2, B, G², 2]
        # (the centre of the cell it shows in the whole image); Σ over (y, x), mean over
        # this rank's equal share of the rows
        pred = sh.position(P).float().reshape(-1, 2)
        position = ((pred - batch["where"].reshape(-1, 2).to(P.device)) ** 2).sum(1).mean()
        terms["position"] = position
        terms["total"] = total + obj["w_position"] * position
    return terms


# ---------------------------------------------------------------------------------------
# Schedules and updates (src/engine/optim.c, peac.c)

def ema_momentum(momentum0, total_steps, step):
    t = step / total_steps if total_steps > 0 else 1.0
    t = min(t, 1.0)
    return 1.0 - (1.0 - momentum0) * 0.5 * (1.0 + math.cos(math.pi * t))


def ema_update(teacher_modules, student_modules, m):
    a, b = float(m), float(1.0 - m)
    with torch.no_grad():
        for t, s in zip(teacher_modules, student_modules):
            for pt, ps in zip(t.parameters(), s.parameters()):
                pt.mul_(a).add_(ps.detach(), alpha=b)


def learning_rate(opt, step):
    lr, warm, total, floor = opt["lr"], opt["warmup_steps"], opt["total_steps"], opt["min_lr"]
    if step < warm:
        return lr * (step + 1) / warm
    span = total - warm
    if span <= 0 or step >= total:
        return lr if span <= 0 else floor
    t = (step - warm) / span
    return floor + 0.5 * (lr - floor) * (1.0 + math.cos(math.pi * t))


def decays(name, p):
    return p.dim() >= 2 and "cls_token" not in name and "pos_embed" not in name


class Optimiser:
    """AdamW or SGD over named parameter groups (the engine's "backbone" and "heads"), with
    the joint gradient-norm clipping of train.c. Moments per parameter, in table order, so
    that they flatten into the checkpoint's optim.<group>.m / .v."""

    def __init__(self, groups, opt):
        self.opt = dict(opt)
        self.groups = groups  # {"backbone": [(name, param)], "heads": [...]}
        self.m = {g: [torch.zeros_like(p) for _, p in ps] for g, ps in groups.items()}
        self.v = {g: [torch.zeros_like(p) for _, p in ps] for g, ps in groups.items()}
        self.step_count = 0

    def grad_norm(self):
        s = 0.0
        for ps in self.groups.values():
            for _, p in ps:
                if p.grad is not None:
                    s += float((p.grad.double() ** 2).sum())
        return math.sqrt(s)

    @torch.no_grad()
    def step(self, norm):
        o = self.opt
        clip = o["clip_norm"]
        k = clip / (norm + 1e-6) if clip > 0 and norm > clip else 1.0
        lr = learning_rate(o, self.step_count)
        self.step_count += 1
        t = self.step_count
        bc1 = 1.0 - o["beta1"] ** t
        bc2 = 1.0 - o["beta2"] ** t
        wd = o["weight_decay"]
        for g, ps in self.groups.items():
            for (name, p), m, v in zip(ps, self.m[g], self.v[g]):
                grad = p.grad if p.grad is not None else torch.zeros_like(p)
                if k != 1.0:
                    grad = grad * k
                dec = decays(name, p)
                if o["kind"] == 0:  # AdamW, decoupled decay
                    if dec:
                        p.mul_(1.0 - lr * wd)
                    m.mul_(o["beta1"]).add_(grad, alpha=1.0 - o["beta1"])
                    v.mul_(o["beta2"]).addcmul_(grad, grad, value=1.0 - o["beta2"])
                    p.sub_(lr * (m / bc1) / (torch.sqrt(v / bc2) + o["eps"]))
                else:               # SGD with momentum (PyTorch's form)
                    if dec:
                        grad = grad + wd * p
                    if t == 1:
                        m.copy_(grad)
                    else:
                        m.mul_(o["momentum"]).add_(grad)
                    p.sub_(lr * m)
        return lr

    def _offsets(self, group):
        """Offsets of the group's tensors in the engine's flat table (params.c): each starts
        on a multiple of 16 floats; the padding between them is zero. Also the total."""
        offs, total = [], 0
        for _, p in self.groups[group]:
            o = (total + 15) & ~15
            offs.append(o)
            total = o + p.numel()
        return offs, total

    def flat(self, group, which):
        src = (self.m if which == "m" else self.v)[group]
        offs, total = self._offsets(group)
        out = torch.zeros(total)
        for o, x in zip(offs, src):
            out[o:o + x.numel()] = x.detach().reshape(-1).cpu()
        return out

    def load_flat(self, group, which, flat):
        dst = (self.m if which == "m" else self.v)[group]
        offs, total = self._offsets(group)
        if flat.numel() != total:
            raise ValueError(f"optim.{group}.{which}: {flat.numel()} values, the model's table has {total}")
        for o, x in zip(offs, dst):
            x.copy_(flat[o:o + x.numel()].reshape(x.shape))


def init_engine_style(module, gen):
    """The engine's initialisation rule (peac.c init_table): biases 0, other vectors 1,
    everything else truncated normal (std 0.02, cut at ±0.04)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith(".bias"):
                p.zero_()
            elif p.dim() == 1:
                p.fill_(1.0)
            else:
                v = torch.empty(p.shape).normal_(0.0, 0.02, generator=gen)
                bad = v.abs() > 0.04
                while bool(bad.any()):
                    v[bad] = torch.empty(int(bad.sum())).normal_(0.0, 0.02, generator=gen)
                    bad = v.abs() > 0.04
                p.copy_(v)
