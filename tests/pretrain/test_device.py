# SPDX-License-Identifier: GPL-3.0-or-later
#
# test_device.py: the lent-GPU path of the bundled model (tools/bundled-model/device.sh,
# tools/pretrain/pack.py, peac_export.py), TAP output, on the CPU; PEAC is the built peac.
#   export  a micro checkpoint of train.py exported by peac_export.py and by `peac export
#       --dtype f16` (the oracle): the same tensors in the same order, byte for byte, and the
#       same metadata but for the exporter's own name (likewise the F32 student, and a
#       checkpoint of peac train); `peac embed` and `peac export` open the Python export
#       (peac info reads images only); a file without a teacher branch is refused, named.
#   pack  synthetic PNGs (8 and 16 bit) packed at a side: train.py's loader gives
#       rint(255·squeeze)/255, within 0.5/255 of the float squeeze; a side's squeeze of an
#       image of that side is the identity; a packed image read at another side is refused;
#       the manifest's checksums are sha256sum's.
#   args  recipe.sh --print-train-args (the recipe and its --smoke) give train.py and
#       `peac train` the same configuration (both --print-config).
#   train  device.sh train --smoke on the CPU over packed synthetic images: teachers at
#       steps 4 and 8 equal to peac export's of the run's checkpoint, and the loss log; then
#       recipe.sh --smoke (with ../shared/data) scores them as curve rows and ships one.
# Images are synthetic (no patient data); everything goes to a temporary folder.
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_pretrain as tp  # noqa: E402
from test_pretrain import ok, run, trainer  # noqa: E402

ROOT = tp.ROOT
EXPORT = os.path.join(ROOT, "tools", "pretrain", "peac_export.py")
PACK = os.path.join(ROOT, "tools", "pretrain", "pack.py")
RECIPE = os.path.join(ROOT, "tools", "bundled-model", "recipe.sh")
DEVICE = os.path.join(ROOT, "tools", "bundled-model", "device.sh")
import peac_checkpoint as ckio  # noqa: E402  (tools/pretrain is on the path via test_pretrain)
import peac_data  # noqa: E402


def raw_file(path):
    """(header without metadata, metadata, data bytes) of a safetensors file, as stored."""
    with open(path, "rb") as f:
        b = f.read()
    n = int.from_bytes(b[:8], "little")
    h = json.loads(b[8:8 + n])
    return h, h.pop("__metadata__"), b[8 + n:]


def same_models(a, b, what):
    ha, ma, da = raw_file(a)
    hb, mb, db = raw_file(b)
    ok(list(ha) == list(hb), f"{what}: the same tensor names in the same order", f"{len(ha)} vs {len(hb)}")
    ok(ha == hb, f"{what}: the same dtypes, shapes and offsets")
    ok(da == db, f"{what}: the same tensor bytes", f"{len(da)} vs {len(db)} bytes")
    return ma, mb


def test_export(peac, tmp):
    imgs = tp.make_images(os.path.join(tmp, "imgs"))
    ck = os.path.join(tmp, "ck.safetensors")
    rc, out = trainer(["--preset", "micro", "--config", '{"img_size": 40}', "--data", imgs, "--steps", "5",
                       "--stop-after", "2", "--batch", "4", "--threads", "1", "--quiet", "--jitter", "3",
                       "--w-position", "2", "--distortions", "reference", "--out", ck])
    ok(rc == 130, "trainer: a micro checkpoint", out[-1500:] if rc != 130 else "")
    if rc != 130:
        return
    c, p = os.path.join(tmp, "c.safetensors"), os.path.join(tmp, "p.safetensors")
    rc1, out1 = run([peac, "export", ck, "-o", c, "--dtype", "f16", "-q"])
    rc2, out2 = run([sys.executable, EXPORT, ck, "-o", p, "-q"])
    ok(rc1 == 0 and rc2 == 0, "peac export and peac_export.py write the F16 model", (out1 + out2)[-800:])
    if rc1 or rc2:
        return
    mc, mp = same_models(c, p, "F16 teacher")
    ok(raw_file(p)[0]["norm.weight"]["dtype"] == "F16", "stored as F16")
    ok(sorted(mc) == sorted(mp), "the same metadata keys", f"{sorted(mc)} vs {sorted(mp)}")
    ok(all(mc[k] == mp.get(k) for k in ("peac.arch", "peac.layout", "peac.config")),
       "peac.arch, peac.layout and peac.config equal")
    ok(mc.get("peac.source") == "peac export" and mp.get("peac.source") == "tools/pretrain/peac_export.py",
       "peac.source names each exporter", f"{mc.get('peac.source')} / {mp.get('peac.source')}")
    pc, pp = json.loads(mc["peac.provenance"]), json.loads(mp["peac.provenance"])
    ec, ep = pc.pop("exported_by", None), pp.pop("exported_by", None)
    ok(pc == pp and ep == "tools/pretrain/peac_export.py" and ec == "peac export",
       "peac.provenance equal but for exported_by",
       json.dumps({k: (pc.get(k), pp.get(k)) for k in set(pc) | set(pp) if pc.get(k) != pp.get(k)})[:800])
    ok(pp.get("step") == 2 and pp.get("source_kind", "").startswith("tools/pretrain/train.py"),
       "the provenance names the step and the trainer", f"{pp.get('step')}, {pp.get('source_kind')}")
    # student branch, F32: against peac export's too
    c32, p32 = os.path.join(tmp, "c32.safetensors"), os.path.join(tmp, "p32.safetensors")
    run([peac, "export", ck, "-o", c32, "--dtype", "f32", "--branch", "student", "-q"])
    run([sys.executable, EXPORT, ck, "-o", p32, "--dtype", "f32", "--branch", "student", "-q"])
    if os.path.exists(c32) and os.path.exists(p32):
        same_models(c32, p32, "F32 student")
    else:
        ok(False, "F32 student exports written")
    rc, out = run([peac, "export", p, "-o", os.path.join(tmp, "again.safetensors"), "-q"])
    ok(rc == 0, "peac export reads the Python export as a model", out[-600:] if rc else "")
    rc, out = run([peac, "embed", "--model", p, os.path.join(imgs, "img0.png"), "-o",
                   os.path.join(tmp, "emb.safetensors")])
    ok(rc == 0, "peac embed opens the Python export", out[-600:] if rc else "")
    # a checkpoint of peac train (the engine's own writer) exports the same way
    ek = os.path.join(tmp, "engine.safetensors")
    rc, out = run([peac, "train", "--preset", "micro", "--data", imgs, "--steps", "4", "--stop-after", "1",
                   "--batch", "2", "--threads", "1", "--quiet", "--out", ek])
    ok(rc == 130, "peac train: a micro checkpoint", out[-800:] if rc != 130 else "")
    if rc == 130:
        ce, pe = os.path.join(tmp, "ce.safetensors"), os.path.join(tmp, "pe.safetensors")
        run([peac, "export", ek, "-o", ce, "-q"])
        run([sys.executable, EXPORT, ek, "-o", pe, "-q"])
        if os.path.exists(ce) and os.path.exists(pe):
            same_models(ce, pe, "peac train's checkpoint")
        else:
            ok(False, "both exports of peac train's checkpoint written")
    rc, out = run([sys.executable, EXPORT, p, "-o", os.path.join(tmp, "x.safetensors")])
    ok(rc == 1 and p in out and "teacher." in out, "a model file (no teacher branch) is refused, named",
       out[-400:])


def test_pack(tmp):
    src = os.path.join(tmp, "src")
    os.makedirs(os.path.join(src, "sub"))
    rng = np.random.default_rng(3)
    tp.write_png(os.path.join(src, "a.png"), rng.integers(0, 256, (90, 70)).astype(np.uint8))
    tp.write_png(os.path.join(src, "sub", "b.png"), rng.integers(100, 40000, (64, 96)).astype(np.uint16))
    lst = os.path.join(tmp, "list.txt")
    with open(lst, "w") as f:
        f.write("sub/b.png\na.png\n")
    # side of the micro preset with --max-shift 2 --jitter 7: (4 + 2) · 8 + 7 = 55
    args = ["--preset", "micro", "--max-shift", "2", "--jitter", "7"]
    out = os.path.join(tmp, "packed")
    rc, o = run([sys.executable, PACK, "--root", src, "--list", lst, "--out", out, "--"] + args)
    ok(rc == 0, "pack.py packs the list", o[-800:])
    if rc:
        return
    rows = [ln.split("\t") for ln in open(os.path.join(out, "manifest.tsv")).read().splitlines()]
    sums = {}
    for r in ("a.png", "sub/b.png"):
        p = subprocess.run(["sha256sum", os.path.join(src, r)], capture_output=True, text=True)
        sums[r] = p.stdout.split()[0]
    ok([r[0] for r in rows] == ["sub/b.png", "a.png"], "the manifest keeps the list's order")
    ok(all(r[1] == sums[r[0]] and r[2] == "55" for r in rows), "the manifest's sha256 is sha256sum's, side 55")
    worst = 0.0
    for r in ("a.png", "sub/b.png"):
        f = peac_data.load_grey(os.path.join(src, r), 55)
        g = peac_data.load_grey(os.path.join(out, r), 55)
        want = (np.rint(f.astype(np.float64) * 255) / 255).astype(np.float32)
        ok(g.shape == (55, 55) and np.array_equal(g, want), f"{r}: the loader gives the packed values")
        worst = max(worst, float(np.abs(g.astype(np.float64) - f).max()))
    ok(worst <= 0.5 / 255 + 1e-6, "packed within 0.5/255 of the float squeeze", f"{worst * 255:.4f}/255")
    x = rng.random((55, 55)).astype(np.float32)
    ok(np.array_equal(peac_data.squeeze(x, 55), x), "squeezing 55 -> 55 is the identity")
    try:
        peac_data.load_grey(os.path.join(out, "a.png"), 56)
        ok(False, "a packed image read at another side is refused")
    except ValueError as e:
        ok("55" in str(e) and "56" in str(e), "a packed image read at another side is refused", str(e))


def test_args(peac):
    for extra in ([], ["--smoke"]):
        rc, o = run(["bash", RECIPE, "--print-train-args"] + extra)
        args = o.split()
        ok(rc == 0 and "--preset" in args and "--steps" in args, f"recipe.sh --print-train-args {' '.join(extra)}")
        r1, j1 = run([peac, "train", "--print-config"] + args)
        r2, j2 = trainer(["--print-config"] + args)
        ok(r1 == 0 and r2 == 0, "peac train and train.py accept them", (j1 + j2)[-800:] if r1 or r2 else "")
        if r1 or r2:
            continue
        e, t = json.loads(j1), json.loads(j2)
        state = json.loads(ckio.state_json(t, 0, [0, 0, 0, 0]))
        diff = [k for k in ("seed", "batch", "objective", "optimiser") if e.get(k) != state.get(k)]
        ok(not diff, "the same training configuration in both", json.dumps({k: (e.get(k), state.get(k)) for k in diff})[:800])
        m, v = e["model"], t["model"]
        same = all(m[k] == v[k] for k in ("img_size", "patch_size", "embed_dim", "depth", "num_heads",
                                          "mlp_ratio", "qkv_bias")) and abs(m["layernorm_eps"] - v["layernorm_eps"]) < 1e-12
        ok(same, "the same model configuration", "" if same else f"{m} vs {v}")


def test_train(peac, tmp):
    imgs = tp.make_images(os.path.join(tmp, "timgs"), n=12)
    lst = os.path.join(tmp, "tlist.txt")
    with open(lst, "w") as f:
        f.write("".join(f"img{k}.png\n" for k in range(12)))
    rc, sm = run(["bash", RECIPE, "--print-train-args", "--smoke"])
    packed, out, rund = (os.path.join(tmp, n) for n in ("tpacked", "tout", "trun"))
    rc, o = run([sys.executable, PACK, "--root", imgs, "--list", lst, "--out", packed, "--"] + sm.split())
    ok(rc == 0, "the synthetic images packed with the smoke options", o[-600:])
    env = {"PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    rc, o = run(["bash", DEVICE, "train", packed, out, "--smoke", "--device", "cpu", "--workers", "0",
                 "--minutes", "3", "--run", rund], env)
    ok(rc == 0, "device.sh train --smoke: 8 steps on the CPU", o[-1500:] if rc else "")
    if rc:
        return
    ok(sorted(os.listdir(out)) == ["device.txt", "log.csv", "teacher-step-4.safetensors",
                                   "teacher-step-8.safetensors"], "OUT: two teachers, the log, device.txt",
       str(sorted(os.listdir(out))))
    rows = open(os.path.join(out, "log.csv")).read().splitlines()
    ok(len(rows) == 9 and rows[-1].startswith("8,"), "the loss log holds steps 1 to 8", f"{len(rows)} lines")
    ref = os.path.join(tmp, "ref.safetensors")
    run([peac, "export", os.path.join(rund, "checkpoint.safetensors"), "-o", ref, "--dtype", "f16", "-q"])
    if os.path.exists(ref):
        same_models(ref, os.path.join(out, "teacher-step-8.safetensors"), "step 8 teacher vs peac export")
    else:
        ok(False, "peac export of the run's checkpoint")
    # a second call finds the run finished and adds nothing but its record
    rc, o = run(["bash", DEVICE, "train", packed, out, "--smoke", "--device", "cpu", "--workers", "0",
                 "--minutes", "3", "--run", rund], env)
    txt = open(os.path.join(out, "device.txt")).read()
    good = rc == 0 and "call 2:" in txt and "from step 8 of 8" in txt
    ok(good, "a second call resumes at the run's step", "" if good else (o + txt)[-800:])
    test_recipe(peac, out, tmp)


def test_recipe(peac, out, tmp):
    """recipe.sh --score-teacher / --ship-teacher (--smoke) on the teachers device.sh made."""
    data = os.path.join(os.environ.get("PEAC_SHARED_DIR") or os.path.join(ROOT, "..", "shared"), "data")
    rund = os.path.join(tmp, "recipe-run")
    base = ["bash", RECIPE, "--smoke", "--peac", peac, "--data", data, "--out", rund, "--threads", "1"]
    t4, t8 = (os.path.join(out, f"teacher-step-{s}.safetensors") for s in (4, 8))
    cpu_run = os.path.join(tmp, "cpu-run")
    os.makedirs(cpu_run)
    open(os.path.join(cpu_run, "checkpoint.safetensors"), "wb").close()
    rc, o = run(base[:-4] + ["--out", cpu_run, "--threads", "1", "--score-teacher", t8])
    ok(rc == 2 and "of its own" in o and not os.path.exists(os.path.join(cpu_run, "learning-curve.csv")),
       "a run folder trained here is refused, untouched", o[-400:])
    rc, o = run(base + ["--score-teacher", t8, "--step", "4"])
    ok(rc == 2 and "step 8, not 4" in o, "a --step that its provenance contradicts is refused", o[-400:])
    for t in (t4, t8):
        rc, o = run(base + ["--score-teacher", t])
        ok(rc == 0, f"--score-teacher {os.path.basename(t)}", o[-800:] if rc else "")
    rows = open(os.path.join(rund, "learning-curve.csv")).read().splitlines()
    ok([r.split(",")[:3] for r in rows[1:]] == [["4", "16", ""], ["8", "32", ""]],
       "two curve rows: steps 4 and 8, 16 and 32 images, no CPU seconds", str(rows[1:]))
    # the row's nearest-token error is eval-landmarks' own on the same pairs
    rc, j = run([peac, "eval-landmarks", "--model", t8, "--data", os.path.join(data, "landmarks", "jsrt"),
                 "--pairs", "6", "--images", "4", "--threads", "1", "--json"])
    want = f'{json.loads(j)["model_nearest"]["mre_px"]:.2f}' if rc == 0 else "?"
    ok(rows[-1].split(",")[8] == want, "the row's nearest-token error is eval-landmarks'",
       f"{rows[-1].split(',')[8]} vs {want}")
    model = os.path.join(tmp, "shipped.safetensors")
    rc, o = run(base + ["--ship-teacher", t8, "--model-out", model, "--made-by", "steps 1-8: a test"])
    ok(rc == 1 and "log.csv" in o, "--ship-teacher without the loss log is refused", o[-400:])
    with open(os.path.join(out, "log.csv")) as f, open(os.path.join(rund, "log.csv"), "w") as g:
        g.write(f.read())
    rc, o = run(base + ["--ship-teacher", t8, "--model-out", model, "--made-by", "steps 1-8: a test"])
    ok(rc == 0, "--ship-teacher writes the model and the card", o[-800:] if rc else "")
    if rc == 0:
        ok(open(model, "rb").read() == open(t8, "rb").read(), "the shipped model is the teacher file")
        summ = open(os.path.join(rund, "card", "summary.txt")).read()
        ok("at step 8 " in summ and "trained elsewhere: steps 1-8: a test" in summ,
           "the card's summary names the step and where it was trained", summ[:400])


def main():
    what, peac = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory(prefix="peac-device-") as tmp:
        if what == "export":
            test_export(peac, tmp)
        elif what == "pack":
            test_pack(tmp)
        elif what == "args":
            test_args(peac)
        elif what == "train":
            test_train(peac, tmp)
        else:
            print(f"unknown test {what}", file=sys.stderr)
            return 2
    print(f"1..{tp.n_test}")
    return 1 if tp.failed else 0


if __name__ == "__main__":
    sys.exit(main())
