# SPDX-License-Identifier: GPL-3.0-or-later
#
# peac_export: `peac export CKPT -o OUT --dtype f16` (src/cli/cli-export.c) in Python, for
# a machine where the C code is not built (a lent GPU): one backbone branch of a ViT
# checkpoint of train.py or peac train (teacher by default), its tensors in the engine's
# registration order (vit.c: timm's state-dict order) as F16 through peac_checkpoint's
# writer, with the metadata peac export writes — peac.arch, peac.layout, peac.config (the
# checkpoint's own string) and peac.provenance (source file name, its peac.source, branch,
# dtype, step, the training state, the run) — except that peac.source and the
# provenance's exported_by name this exporter. tests/pretrain checks it against peac export.
#   python3 tools/pretrain/peac_export.py CKPT -o OUT.safetensors [--branch student] [--dtype f32]
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peac_checkpoint as ckio  # noqa: E402

EXPORTER = "tools/pretrain/peac_export.py"


def vit_names(vit):
    """The ViT's parameter names in vit.c's registration order."""
    names = ["cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"]
    for i in range(vit["depth"]):
        names += [f"blocks.{i}.{n}" for n in
                  ("norm1.weight", "norm1.bias", "attn.qkv.weight")
                  + (("attn.qkv.bias",) if vit.get("qkv_bias", True) else ())
                  + ("attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
                     "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias")]
    return names + ["norm.weight", "norm.bias"]


def _json_or_text(v):
    try:
        return json.loads(v)
    except ValueError:
        return v


def provenance(meta, src, branch, dtype):
    """cli-export.c's provenance_json."""
    j = {"exported_by": EXPORTER, "source": os.path.basename(src)}
    if "peac.source" in meta:
        j["source_kind"] = meta["peac.source"]
    j.update(branch=branch, dtype=dtype)
    train = _json_or_text(meta["peac.train"]) if "peac.train" in meta else None
    if isinstance(train, dict) and isinstance(train.get("step"), int):
        j["step"] = train["step"]
    if train is not None:
        j["train"] = train
    for k, key in (("run", "peac.run"), ("data", "peac.data"), ("source_provenance", "peac.provenance")):
        if key in meta:
            j[k] = _json_or_text(meta[key])
    return json.dumps(j, separators=(",", ":"))


def export(src, out, branch="teacher", dtype="f16"):
    """Writes the model file; returns (tensor count, parameter count). ValueError/OSError
    name the file and the reason."""
    if branch not in ("teacher", "student"):
        raise ValueError(f"--branch must be teacher or student, not '{branch}'")
    if dtype not in ("f16", "f32"):
        raise ValueError(f"--dtype must be f16 or f32, not '{dtype}'")
    if os.path.abspath(src) == os.path.abspath(out):
        raise ValueError(f"{out}: the output would replace its own source")
    tensors, meta = ckio.read_safetensors(src)
    if meta.get("peac.arch", "vit") != "vit" or meta.get("peac.layout", "timm") != "timm":
        raise ValueError(f"{src}: a {meta.get('peac.arch')}/{meta.get('peac.layout')} file; this "
                         "exporter writes timm-layout ViTs (use peac export)")
    vit = ckio.vit_config_parse(meta.get("peac.config"), src)
    picked = {}
    for n in vit_names(vit):
        t = tensors.get(f"{branch}.{n}")
        if t is None:
            raise ValueError(f"{src}: no tensor '{branch}.{n}' (not a training checkpoint?)")
        picked[n] = t
    meta_out = {"peac.arch": "vit", "peac.layout": "timm", "peac.config": meta["peac.config"],
                "peac.source": EXPORTER, "peac.provenance": provenance(meta, src, branch, dtype)}
    ckio.write_safetensors(out, picked, meta_out, dtype.upper())
    return len(picked), sum(t.numel() for t in picked.values())


def main(argv):
    p = argparse.ArgumentParser(prog="peac_export.py", description="peac export, in Python: one "
                                "backbone of a ViT checkpoint as a model file")
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--branch", default="teacher")
    p.add_argument("--dtype", default="f16")
    p.add_argument("-q", "--quiet", action="store_true")
    a = p.parse_args(argv)
    try:
        n, numel = export(a.checkpoint, a.output, a.branch, a.dtype)
    except (ValueError, OSError, KeyError) as e:
        print(f"peac_export.py: {e}", file=sys.stderr)
        return 1
    if not a.quiet:
        print(f"peac_export.py: {a.branch} branch of {a.checkpoint} → {a.output}: {n} tensors, "
              f"{numel} parameters, {a.dtype}, {os.path.getsize(a.output)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
