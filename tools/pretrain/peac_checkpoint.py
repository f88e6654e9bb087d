# SPDX-License-Identifier: GPL-3.0-or-later
#
# peac_checkpoint: safetensors files as the engine writes and reads them (src/engine/
# checkpoint.c, train.c), for the Python tools: a reader (F32, F16, BF16, F64 to float32)
# and an atomic writer (temporary file, fsync, rename), the `peac.config` ViT keys, and the
# `peac.train` state — objective, distortions, optimiser, batch, seed, step, rng — in the
# key set of train.c's config_object (keys added after the first checkpoints are written
# only when they differ from the default, as train.c does). No safetensors package needed.
# peac_export.py writes models (F16) through the same writer.
import json
import os
import struct

import torch

_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "F64": torch.float64}


def read_safetensors(path):
    """(tensors: {name: float32 tensor}, metadata: {key: str}). Raises ValueError naming
    the file and the reason."""
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path}: truncated file (no header length)")
        (n,) = struct.unpack("<Q", raw)
        if n > 100 * 1024 * 1024:
            raise ValueError(f"{path}: header length {n} exceeds the 104857600-byte limit")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise ValueError(f"{path}: bad header JSON: {e}") from None
        data = f.read()
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, e in header.items():
        dt = _DTYPES.get(e.get("dtype"))
        if dt is None:
            raise ValueError(f"{path}: tensor '{name}': dtype {e.get('dtype')} is not a float type")
        a, b = e["data_offsets"]
        if not 0 <= a <= b <= len(data):
            raise ValueError(f"{path}: tensor '{name}': data_offsets [{a}, {b}] outside the data "
                             f"section of {len(data)} bytes")
        t = torch.frombuffer(bytearray(data[a:b]), dtype=dt) if b > a else torch.empty(0, dtype=dt)
        shape = list(e["shape"])
        numel = 1
        for s in shape:
            numel *= s
        if t.numel() != numel:
            raise ValueError(f"{path}: tensor '{name}': {b - a} bytes for shape {shape}")
        out[name] = t.reshape(shape).float()
    return out, meta


def write_safetensors(path, tensors, meta, dtype="F32"):
    """tensors: {name: tensor} in file order, written as dtype (F32, or F16 rounded to
    nearest even as the engine's peac_f32_to_f16); meta: {key: str}. Atomic."""
    if dtype not in ("F32", "F16"):
        raise ValueError(f"{path}: can only write F32 or F16, not {dtype}")
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu().float().to(_DTYPES[dtype])
        data = (t.view(torch.int16) if dtype != "F32" else t).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def vit_config_json(cfg):
    """peac.config as train.c's vit_json writes it."""
    return json.dumps({"img_size": cfg["img_size"], "patch_size": cfg["patch_size"],
                       "in_chans": cfg.get("in_chans", 3), "embed_dim": cfg["embed_dim"],
                       "depth": cfg["depth"], "num_heads": cfg["num_heads"],
                       "mlp_ratio": float(cfg.get("mlp_ratio", 4.0)),
                       "qkv_bias": bool(cfg.get("qkv_bias", True)),
                       "layernorm_eps": float(cfg.get("layernorm_eps", 1e-6)), "gelu": "erf"},
                      separators=(",", ":"))


def vit_config_parse(text, path="checkpoint"):
    try:
        c = json.loads(text or "")
    except ValueError:
        c = None
    if not isinstance(c, dict) or c.get("gelu", "erf") != "erf":
        raise ValueError(f"{path}: peac.config is not a ViT configuration this trainer builds")
    vit = {"img_size": 224, "patch_size": 16, "in_chans": 3, "mlp_ratio": 4.0,
           "qkv_bias": True, "layernorm_eps": 1e-6}
    vit.update({k: c[k] for k in ("img_size", "patch_size", "in_chans", "embed_dim", "depth",
                                  "num_heads", "mlp_ratio", "qkv_bias", "layernorm_eps") if k in c})
    for k in ("embed_dim", "depth", "num_heads"):
        if not isinstance(vit.get(k), int) or vit[k] <= 0:
            raise ValueError(f"{path}: peac.config lacks a valid {k}")
    return vit


_OBJ_KEYS = ("proj_hidden", "proj_out", "local_hidden", "local_out", "w_order", "w_restore",
             "w_global", "w_local", "local_temp", "p_shuffle", "max_shift", "momentum0",
             "total_steps")
_DIST_KEYS = ("p_shuffle", "shuffle_windows", "shuffle_max", "p_bezier", "p_paint", "p_inpaint")
_OPT_KEYS = ("kind", "lr", "min_lr", "warmup_steps", "total_steps", "weight_decay", "beta1",
             "beta2", "eps", "momentum", "clip_norm")
_INTS = {"proj_hidden", "proj_out", "local_hidden", "local_out", "max_shift", "total_steps",
         "shuffle_windows", "shuffle_max", "kind", "warmup_steps", "jitter",
         "teacher_sees_shuffled"}


def _typed(k, v):
    return int(v) if k in _INTS else float(v)


def state_json(cfg, step, rng):
    """peac.train: cfg = {"seed", "batch", "objective": {..., "distort": {...}},
    "optimiser": {...}}; rng = four uint64."""
    o, d, p = cfg["objective"], cfg["objective"]["distort"], cfg["optimiser"]
    obj = {k: _typed(k, o[k]) for k in _OBJ_KEYS}
    obj["distort"] = {k: _typed(k, d[k]) for k in _DIST_KEYS}
    if o.get("jitter", 0):
        obj["jitter"] = int(o["jitter"])
    if o.get("teacher_sees_shuffled", 0):
        obj["teacher_sees_shuffled"] = 1
    if o.get("w_position", 0.0):
        obj["w_position"] = float(o["w_position"])
    if d.get("style", "genesis") != "genesis":
        obj["distort"].update(style=d["style"], gamma_sigma=float(d["gamma_sigma"]),
                              p_invert=float(d["p_invert"]))
    j = {"seed": int(cfg["seed"]), "batch": int(cfg["batch"]), "objective": obj,
         "optimiser": {k: _typed(k, p[k]) for k in _OPT_KEYS},
         "step": int(step), "rng": [str(int(x)) for x in rng]}
    return json.dumps(j, separators=(",", ":"))


def state_parse(text, path="checkpoint"):
    """(cfg, step, rng) from peac.train, with train.c's defaults for keys older files lack."""
    try:
        j = json.loads(text or "")
        o, p, d = j["objective"], j["optimiser"], j["objective"]["distort"]
        obj = {k: _typed(k, o[k]) for k in _OBJ_KEYS if k not in ("local_hidden", "local_out",
                                                                   "local_temp")}
        obj["local_hidden"] = int(o.get("local_hidden", obj["proj_hidden"]))
        obj["local_out"] = int(o.get("local_out", obj["proj_out"]))
        obj["local_temp"] = float(o.get("local_temp", 0.0))
        obj["jitter"] = int(o.get("jitter", 0))
        obj["teacher_sees_shuffled"] = int(o.get("teacher_sees_shuffled", 0))
        obj["w_position"] = float(o.get("w_position", 0.0))
        if not 0.0 <= obj["w_position"] <= 1e12:
            raise ValueError("w_position outside [0, 1e12]")
        dist = {k: _typed(k, d[k]) for k in _DIST_KEYS}
        dist["style"] = d.get("style", "genesis")
        dist["gamma_sigma"] = float(d.get("gamma_sigma", 0.5))
        dist["p_invert"] = float(d.get("p_invert", 0.25))
        obj["distort"] = dist
        cfg = {"seed": int(j["seed"]), "batch": int(j["batch"]), "objective": obj,
               "optimiser": {k: _typed(k, p[k]) for k in _OPT_KEYS}}
        step = int(j["step"])
        rng = [int(x) for x in j["rng"]]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{path}: no readable training state (peac.train)") from None
    if dist["style"] not in ("genesis", "reference") or step < 0 or len(rng) != 4:
        raise ValueError(f"{path}: no readable training state (peac.train)")
    return cfg, step, rng


def splitmix_state(seed):
    """A xoshiro256** state as rng.c seeds it (for the engine's sampler on resume)."""
    x, out, mask = seed & 0xFFFFFFFFFFFFFFFF, [], 0xFFFFFFFFFFFFFFFF
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & mask
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out
