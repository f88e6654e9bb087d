# SPDX-License-Identifier: GPL-3.0-or-later
#
# convert_checkpoint: PyTorch checkpoints → the safetensors files PEAC Explorer loads.
# Reads PEAC/POPAR training checkpoints (dicts holding `student`, `teacher`, `model`,
# `state_dict`…, names with `module.` prefixes) and plain timm state dicts; picks the
# backbone's tensors, strips prefixes, drops buffers the engine recomputes (attn_mask,
# relative_position_index) and classifier heads, infers the architecture, layout and
# config from names and shapes (flags override), and writes safetensors by hand (json +
# struct, no safetensors package needed) with `peac.arch`, `peac.layout`, `peac.config`
# and `peac.source` metadata, in F32 or F16. Needs torch only to read the input file.
#
#   /usr/bin/python3 tools/convert_checkpoint.py ckpt.pth out.safetensors [--key teacher]
#       [--arch vit|swin] [--layout timm|microsoft] [--img-size 448] [--window 7]
#       [--dtype f32|f16] [--config '{"layernorm_eps": 1e-6}']
import argparse
import json
import re
import struct
import sys

SKIP_LEAVES = ("attn_mask", "relative_position_index", "num_batches_tracked")
# Backbone tensors (ViT timm names, Swin both layouts); anything else (PEAC heads,
# projectors, decoders, mask tokens) is reported and dropped.
BACKBONE = re.compile(r"^(patch_embed\.|cls_token$|pos_embed$|blocks\.|layers\.|norm\.)")
CONTAINER_KEYS = ("teacher", "student", "model", "state_dict", "model_ema", "module", "encoder")


def find_state_dict(obj, key):
    """The tensor dict inside a checkpoint: `key` if given, else the first known container
    (teacher first: PEAC evaluates the teacher), else the object itself."""
    import torch

    if key:
        for part in key.split("."):
            if not isinstance(obj, dict) or part not in obj:
                sys.exit(f"convert_checkpoint: no entry {key!r} in the checkpoint "
                         f"(top level: {', '.join(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__})")
            obj = obj[part]
        return obj
    while isinstance(obj, dict) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        for k in CONTAINER_KEYS:
            if k in obj and isinstance(obj[k], dict):
                obj = obj[k]
                break
        else:
            sys.exit("convert_checkpoint: cannot find a state dict; pass --key "
                     f"(top level: {', '.join(map(str, obj))})")
    return obj


def clean_names(sd):
    out, dropped = {}, []
    for name, t in sd.items():
        for p in ("module.", "backbone.", "encoder.", "model."):
            while name.startswith(p):
                name = name[len(p):]
        leaf = name.rsplit(".", 1)[-1]
        if leaf in SKIP_LEAVES:
            continue
        if not BACKBONE.match(name):
            dropped.append(name)
            continue
        out[name] = t
    if dropped:
        print(f"convert_checkpoint: dropped {len(dropped)} non-backbone tensors "
              f"({', '.join(dropped[:5])}{', …' if len(dropped) > 5 else ''})", file=sys.stderr)
    return out


def infer(sd, args):
    """(arch, layout, config) from names and shapes; args override."""
    names = set(sd)
    arch = args.arch or ("swin" if any(".blocks." in n and n.startswith("layers.") for n in names) else "vit")
    cfg = {}
    if arch == "vit":
        w = sd["patch_embed.proj.weight"]
        D, C, P, _ = w.shape
        depth = 1 + max(int(m.group(1)) for n in names if (m := re.match(r"blocks\.(\d+)\.", n)))
        grid = sd["pos_embed"].shape[1] - (1 if "cls_token" in names else 0)
        g = int(round(grid ** 0.5))
        heads = args.heads or max(1, D // 64)
        hidden = sd["blocks.0.mlp.fc1.weight"].shape[0]
        cfg = {"img_size": g * P, "patch_size": P, "in_chans": C, "embed_dim": D, "depth": depth,
               "num_heads": heads, "mlp_ratio": hidden / D, "qkv_bias": "blocks.0.attn.qkv.bias" in names,
               "layernorm_eps": 1e-6, "gelu": "erf"}
        layout = args.layout or "timm"
    else:
        w = sd["patch_embed.proj.weight"]
        E, C, P, _ = w.shape
        stages = 1 + max(int(m.group(1)) for n in names if (m := re.match(r"layers\.(\d+)\.", n)))
        depths, heads = [], []
        for s in range(stages):
            blocks = [int(m.group(1)) for n in names if (m := re.match(rf"layers\.{s}\.blocks\.(\d+)\.", n))]
            depths.append(1 + max(blocks))
            heads.append(sd[f"layers.{s}.blocks.0.attn.relative_position_bias_table"].shape[1])
        # Microsoft/SimMIM: downsample closes stage s (so the last stage has none);
        # timm ≥ 0.9: it opens stage s+1 (so stage 0 has none).
        down = {int(m.group(1)) for n in names if (m := re.match(r"layers\.(\d+)\.downsample\.", n))}
        layout = args.layout or ("timm" if 0 not in down and down else "microsoft")
        table = sd["layers.0.blocks.0.attn.relative_position_bias_table"].shape[0]
        window = args.window or (int(round(table ** 0.5)) + 1) // 2
        hidden = sd["layers.0.blocks.0.mlp.fc1.weight"].shape[0]
        cfg = {"img_size": args.img_size or 224, "patch_size": P, "in_chans": C, "embed_dim": E,
               "depths": depths, "num_heads": heads, "window_size": window, "mlp_ratio": hidden / E,
               "qkv_bias": "layers.0.blocks.0.attn.qkv.bias" in names, "layernorm_eps": 1e-5,
               "gelu": "erf"}
    if arch == "vit" and args.img_size:
        cfg["img_size"] = args.img_size
    if args.config:
        cfg.update(json.loads(args.config))
    return arch, layout, cfg


def write_safetensors(path, tensors, metadata, dtype):
    """Writes {name: torch.Tensor} as safetensors: 8-byte little-endian header length, the
    JSON header (dtype, shape, data_offsets per tensor, __metadata__ strings), raw data."""
    import torch

    tdtype, tag = (torch.float16, "F16") if dtype == "f16" else (torch.float32, "F32")
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu", tdtype).contiguous()
        data = t.numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": tag, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)   # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert a PEAC/POPAR or timm PyTorch checkpoint to PEAC safetensors.")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--key", help="entry holding the backbone, e.g. teacher, student, state_dict (dots for nesting)")
    ap.add_argument("--arch", choices=("vit", "swin"))
    ap.add_argument("--layout", choices=("timm", "microsoft"), help="Swin name layout (inferred from downsample names)")
    ap.add_argument("--img-size", type=int, help="input side the model was trained at (Swin cannot infer it; default 224)")
    ap.add_argument("--window", type=int, help="Swin window size (default: from the bias table)")
    ap.add_argument("--heads", type=int, help="ViT heads (default: width / 64)")
    ap.add_argument("--config", help="JSON merged over the inferred peac.config")
    ap.add_argument("--dtype", choices=("f32", "f16"), default="f32")
    args = ap.parse_args(argv)

    import torch

    try:
        obj = torch.load(args.input, map_location="cpu", weights_only=False)
    except TypeError:   # torch < 1.13 has no weights_only
        obj = torch.load(args.input, map_location="cpu")
    sd = clean_names({k: v for k, v in find_state_dict(obj, args.key).items() if isinstance(v, torch.Tensor)})
    if "patch_embed.proj.weight" not in sd:
        sys.exit(f"convert_checkpoint: {args.input}: no patch_embed.proj.weight; is this a ViT/Swin backbone? "
                 "(try --key)")
    arch, layout, cfg = infer(sd, args)
    meta = {"peac.arch": arch, "peac.layout": layout, "peac.config": json.dumps(cfg),
            "peac.source": f"convert_checkpoint.py from {args.input}" + (f" [{args.key}]" if args.key else "")}
    write_safetensors(args.output, sd, meta, args.dtype)
    print(f"{args.output}: {arch} ({layout}), {len(sd)} tensors, {args.dtype}, config {json.dumps(cfg)}")


if __name__ == "__main__":
    main()
