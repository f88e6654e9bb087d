# SPDX-License-Identifier: GPL-3.0-or-later
#
# torch_bench: the PyTorch peer of `peac bench`. Plain nn.Module ViT and Swin with the same
# shapes as timm's vit_{tiny,small,base}_patch16_224 and swin_base_patch4_window7 at 448
# (timm itself is not packaged for Debian), random weights, eval mode, inference_mode.
# Prints one JSON object per (model, batch): {"model", "batch", "torch_ms", "threads",
# "torch_version"}: the median of up to --reps timed forwards (at least 3, fewer than --reps
# once --budget seconds are spent) after --warmup untimed ones.
# PyTorch is at its best here with torch.set_num_threads(1) and OpenBLAS doing the
# threading (OPENBLAS_NUM_THREADS, set by `peac bench`): torch's own threads on top of
# OpenBLAS's oversubscribe the cores. --threads 0 leaves torch's default thread count (the
# "as installed" column, run without OPENBLAS_*/OMP_* variables). Run with Debian's
# interpreter: /usr/bin/python3.
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class VitAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        a = (q * (C // self.heads) ** -0.5) @ k.transpose(-2, -1)
        x = a.softmax(-1) @ v
        return self.proj(x.transpose(1, 2).reshape(B, N, C))


class VitBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = VitAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Vit(nn.Module):
    def __init__(self, dim, depth, heads, img=224, patch=16):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + (img // patch) ** 2, dim) * 0.02)
        self.blocks = nn.Sequential(*[VitBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.norm(self.blocks(x))


def window_partition(x, w):
    B, H, W, C = x.shape
    x = x.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, C)


def window_reverse(x, w, B, H, W):
    C = x.shape[-1]
    x = x.view(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, C)


class SwinBlock(nn.Module):
    def __init__(self, dim, heads, res, window, shift):
        super().__init__()
        if res <= window:
            window, shift = res, 0
        self.w, self.s, self.heads = window, shift, heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.table = nn.Parameter(torch.randn((2 * window - 1) ** 2, heads) * 0.02)
        c = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        rel = (c[:, :, None] - c[:, None, :]).permute(1, 2, 0) + window - 1
        self.register_buffer("index", rel[..., 0] * (2 * window - 1) + rel[..., 1])
        mask = None
        if shift:
            img = torch.zeros(1, res, res, 1)
            cnt = 0
            for h in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
                for v in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
                    img[:, h, v, :] = cnt
                    cnt += 1
            mw = window_partition(img, window).squeeze(-1)
            mask = (mw[:, None, :] - mw[:, :, None]).ne(0).float() * -100.0
        self.register_buffer("mask", mask)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x):
        B, H, W, C = x.shape
        w, s, nh = self.w, self.s, self.heads
        h = self.norm1(x)
        if s:
            h = torch.roll(h, (-s, -s), (1, 2))
        h = window_partition(h, w)
        Bw, N, _ = h.shape
        q, k, v = self.qkv(h).reshape(Bw, N, 3, nh, C // nh).permute(2, 0, 3, 1, 4)
        a = (q * (C // nh) ** -0.5) @ k.transpose(-2, -1)
        a = a + self.table[self.index.view(-1)].view(N, N, nh).permute(2, 0, 1)
        if self.mask is not None:
            nW = self.mask.shape[0]
            a = (a.view(Bw // nW, nW, nh, N, N) + self.mask[None, :, None]).view(Bw, nh, N, N)
        h = self.proj((a.softmax(-1) @ v).transpose(1, 2).reshape(Bw, N, C))
        h = window_reverse(h, w, B, H, W)
        if s:
            h = torch.roll(h, (s, s), (1, 2))
        x = x + h
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class Swin(nn.Module):
    def __init__(self, embed, depths, heads, img=448, patch=4, window=7):
        super().__init__()
        self.proj = nn.Conv2d(3, embed, patch, patch)
        self.pnorm = nn.LayerNorm(embed)
        layers, res = [], img // patch
        for s, (d, nh) in enumerate(zip(depths, heads)):
            dim = embed << s
            layers += [SwinBlock(dim, nh, res, window, 0 if b % 2 == 0 else window // 2) for b in range(d)]
            if s + 1 < len(depths):
                layers.append(PatchMerging(dim))
                res //= 2
        self.layers = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(embed << (len(depths) - 1))

    def forward(self, x):
        x = self.pnorm(self.proj(x).permute(0, 2, 3, 1))
        return self.norm(self.layers(x))


MODELS = {
    "vit_tiny": (lambda: Vit(192, 12, 3), 224),
    "vit_small": (lambda: Vit(384, 12, 6), 224),
    "vit_base": (lambda: Vit(768, 12, 12), 224),
    "swin_base": (lambda: Swin(128, (2, 2, 18, 2), (4, 8, 16, 32)), 448),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads; 0 = torch's default")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=7, help="at most this many timed runs")
    ap.add_argument("--budget", type=float, default=20.0, help="stop after 3 runs once this many seconds are spent")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name in args.models.split(","):
        if name not in MODELS:
            sys.exit(f"torch_bench: unknown model {name!r} (known: {', '.join(MODELS)})")
        make, size = MODELS[name]
        model = make().eval()
        for batch in (int(b) for b in args.batches.split(",")):
            x = torch.randn(batch, 3, size, size)
            times = []
            with torch.inference_mode():
                for _ in range(args.warmup):
                    model(x)
                while len(times) < args.reps and (len(times) < 3 or sum(times) < args.budget):
                    t0 = time.perf_counter()
                    model(x)
                    times.append(time.perf_counter() - t0)
            print(json.dumps({"model": name, "batch": batch, "torch_ms": 1e3 * statistics.median(times),
                              "threads": torch.get_num_threads(), "torch_version": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
