#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# test-swin-torch: a Swin checkpoint as the PEAC paper's code writes it, end to end. A small
# Swin Transformer is built here in PyTorch with the Microsoft module names (PatchMerging
# closing each stage, relative position bias tables, shifted windows with their mask), its
# weights drawn at random and saved as a {"model": state_dict, "epoch": …} .pth;
# tools/convert_checkpoint.py turns it into safetensors (architecture, layout and
# configuration inferred); PyTorch's forward and autograd gradients with the converted
# weights, written as a reference fixture, are what `peac verify-reference` finds the
# engine computes (the independent oracle: outputs 1e-4, gradients 1e-3); and
# `peac finetune --mode full` fine-tunes the converted model for a few epochs on NIH
# radiographs with its training loss falling and the saved model still a Microsoft-layout
# Swin. Needs Debian's python3-torch and numpy; $PEAC_SHARED_DIR and $PEAC_SOURCE_DIR
# (set by meson); argv[1] is the built peac.
import csv
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

import importlib.util

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EMBED, DEPTHS, HEADS, WINDOW, PATCH, IMG = 16, (2, 2), (1, 2), 4, 4, 64
convert = None   # tools/convert_checkpoint.py, loaded in main


def window_partition(x, w):
    B, H, W, C = x.shape
    x = x.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, C)


def window_reverse(win, w, H, W):
    B = win.shape[0] // ((H // w) * (W // w))
    x = win.view(B, H // w, W // w, w, w, -1).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, -1)


class WindowAttention(nn.Module):
    def __init__(self, dim, heads, w):
        super().__init__()
        self.heads, self.w = heads, w
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * w - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (w - 1)
        self.register_buffer("relative_position_index", rel[..., 0] * (2 * w - 1) + rel[..., 1])
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask):
        n, N, C = x.shape
        q, k, v = self.qkv(x).view(n, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * (C // self.heads) ** -0.5) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        attn = attn + bias.view(N, N, -1).permute(2, 0, 1)[None]
        if mask is not None:
            nW = mask.shape[0]
            attn = attn.view(n // nW, nW, self.heads, N, N) + mask[None, :, None]
            attn = attn.view(n, self.heads, N, N)
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(n, N, C))


class Mlp(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, res, shift):
        super().__init__()
        self.w, self.res = min(WINDOW, res), res
        self.shift = 0 if res <= WINDOW else shift
        self.norm1, self.attn = nn.LayerNorm(dim), WindowAttention(dim, heads, self.w)
        self.norm2, self.mlp = nn.LayerNorm(dim), Mlp(dim)
        mask = None
        if self.shift:
            img = torch.zeros(1, res, res, 1)
            cuts = (slice(0, -self.w), slice(-self.w, -self.shift), slice(-self.shift, None))
            cnt = 0
            for h in cuts:
                for v in cuts:
                    img[:, h, v, :] = cnt
                    cnt += 1
            mw = window_partition(img, self.w).squeeze(-1)
            mask = mw[:, None, :] - mw[:, :, None]
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
        self.register_buffer("attn_mask", mask)

    def forward(self, x):
        B, L, C = x.shape
        H = W = self.res
        h = self.norm1(x).view(B, H, W, C)
        if self.shift:
            h = torch.roll(h, (-self.shift, -self.shift), (1, 2))
        h = window_reverse(self.attn(window_partition(h, self.w), self.attn_mask), self.w, H, W)
        if self.shift:
            h = torch.roll(h, (self.shift, self.shift), (1, 2))
        x = x + h.reshape(B, L, C)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim, res):
        super().__init__()
        self.res = res
        self.norm, self.reduction = nn.LayerNorm(4 * dim), nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        B, L, C = x.shape
        x = x.view(B, self.res, self.res, C)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.view(B, -1, 4 * C)))


class Layer(nn.Module):
    def __init__(self, dim, depth, heads, res, last):
        super().__init__()
        self.blocks = nn.ModuleList(Block(dim, heads, res, 0 if b % 2 == 0 else WINDOW // 2)
                                    for b in range(depth))
        self.downsample = None if last else PatchMerging(dim, res)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x if self.downsample is None else self.downsample(x)


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj, self.norm = nn.Conv2d(3, EMBED, PATCH, PATCH), nn.LayerNorm(EMBED)

    def forward(self, x):
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


class Swin(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed()
        res = IMG // PATCH
        self.layers = nn.ModuleList()
        for s, (d, h) in enumerate(zip(DEPTHS, HEADS)):
            self.layers.append(Layer(EMBED << s, d, h, res >> s, s == len(DEPTHS) - 1))
        self.norm = nn.LayerNorm(EMBED << (len(DEPTHS) - 1))
        self.head = nn.Linear(EMBED << (len(DEPTHS) - 1), 5)   # a classifier: dropped

    def forward(self, x):
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)                                     # [B, G², D]


def randomise(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or p.ndim == 1:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1 + (p.ndim == 1 and "norm" in name
                                                                     and name.endswith("weight")))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * (1.0 / math.sqrt(p[0].numel())))


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"test-swin-torch: {' '.join(args)} exited {r.returncode}:\n{r.stderr}")
    return r


def read_safetensors(path):
    """{name: torch.Tensor} of an F32 safetensors file (what the converter wrote)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        assert h["dtype"] == "F32", (name, h["dtype"])
        a, b = h["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).view(h["shape"])
    return out


def safetensors_meta(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))["__metadata__"]


def main():
    global convert
    peac = sys.argv[1]
    shared, source = os.environ.get("PEAC_SHARED_DIR"), os.environ.get("PEAC_SOURCE_DIR")
    if not shared or not source:
        sys.exit("test-swin-torch: PEAC_SHARED_DIR and PEAC_SOURCE_DIR must be set")
    spec = importlib.util.spec_from_file_location(
        "convert_checkpoint", os.path.join(source, "tools", "convert_checkpoint.py"))
    convert = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(convert)
    nih = os.path.join(shared, "data", "cxr", "nih-more", "png_512")
    names = sorted(n for n in os.listdir(nih) if n.endswith(".png"))[:16]
    assert len(names) == 16, f"test-swin-torch: {nih} holds {len(names)} PNGs, 16 needed"
    torch.manual_seed(0)
    model = Swin().eval()
    randomise(model, torch.Generator().manual_seed(7))
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "swin_micro.pth")
        torch.save({"model": model.state_dict(), "epoch": 3}, pth)
        conv = os.path.join(tmp, "swin_micro.safetensors")
        run(["/usr/bin/python3", os.path.join(source, "tools", "convert_checkpoint.py"), pth,
             conv, "--img-size", str(IMG)])
        meta = safetensors_meta(conv)
        assert meta["peac.arch"] == "swin" and meta["peac.layout"] == "microsoft", meta
        cfg = json.loads(meta["peac.config"])
        assert (cfg["embed_dim"], cfg["depths"], cfg["num_heads"], cfg["window_size"],
                cfg["img_size"]) == (EMBED, list(DEPTHS), list(HEADS), WINDOW, IMG), cfg

        # The oracle: PyTorch's forward and gradients with the converted file's weights,
        # written as a reference fixture (the format of ../shared/reference) that
        # `peac verify-reference` checks the engine against.
        conv_t = read_safetensors(conv)
        state = model.state_dict()
        for name, t in conv_t.items():
            state[name].copy_(t)            # a name the converter invented fails here
        x = torch.randn(2, 3, IMG, IMG, generator=torch.Generator().manual_seed(3),
                        requires_grad=True)
        feats = model(x)
        G = IMG // PATCH >> (len(DEPTHS) - 1)
        feats = feats.view(2, G, G, -1)
        R = torch.randn(feats.shape, generator=torch.Generator().manual_seed(4))
        loss = (feats * R).sum()
        loss.backward()
        fixture = {"input": x.detach(), "out.features": feats.detach(),
                   "out.pooled": feats.detach().mean((1, 2)), "loss.R": R,
                   "loss.value": loss.detach().view(1), "grad.input": x.grad}
        params = dict(model.named_parameters())
        for name in conv_t:
            fixture["param." + name] = conv_t[name]
            fixture["grad." + name] = params[name].grad
        ref = os.path.join(tmp, "fixture.safetensors")
        convert.write_safetensors(ref, fixture, dict(meta, **{"peac.source": "test-swin-torch"}),
                                  "f32")
        out = run([peac, "verify-reference", ref]).stdout
        print("# " + out.replace("\n", "\n# "))
        m = re.search(r"(\d+) tensors compared \((\d+) gradients\), 0 failed", out)
        assert m and int(m.group(2)) == len(conv_t) + 1, out   # every weight and the input

        # Fine-tuning the converted model end to end.
        labels = os.path.join(tmp, "labels.csv")
        with open(labels, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["image", "split", "a", "b"])
            for i, n in enumerate(names):
                w.writerow([n, "train" if i < 10 else "val", i % 2, (i // 2) % 2])
        saved = os.path.join(tmp, "tuned.safetensors")
        out = run([peac, "finetune", "--model", conv, "--train", labels, "--val", labels,
                   "--images", nih, "--mode", "full", "--epochs", "6", "--batch", "5",
                   "--backbone-lr", "1e-3", "--json", "--save", saved,
                   "--out-dir", os.path.join(tmp, "ft"), "-q"]).stdout
        res = json.loads(out)["results"][0]
        loss = res["train_loss_seed0"]
        print(f"# fine-tuning loss per epoch: {', '.join(f'{v:.4f}' for v in loss)}")
        assert len(loss) == res["epochs_per_seed"][0] >= 2, res
        assert all(math.isfinite(v) for v in loss) and loss[-1] < loss[0], loss
        meta = safetensors_meta(saved)
        assert meta["peac.arch"] == "swin" and meta["peac.layout"] == "microsoft", meta
    print("ok - a Microsoft-layout Swin made with PyTorch converts, computes what PyTorch does, "
          "and fine-tunes")


if __name__ == "__main__":
    main()
