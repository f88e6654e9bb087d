# SPDX-License-Identifier: GPL-3.0-or-later
#
# test_pretrain.py: the PyTorch trainer (tools/pretrain/) against the engine, TAP output.
#   objective TEST-PEAC-REFERENCE  the trainer's objective (via tools/reference/
#       peac_reference.py) on a fixed batch, written as fixtures for the MSE local term, the
#       contrastive one, the teacher seeing shuffled crops and the position head; the engine's
#       test-peac-reference must reproduce every loss term, gradient and EMA step of each.
#   ddp  2 gloo processes × batch 2 give the parameters, moments and losses of 1 process ×
#       batch 4 after 3 steps (torchrun on CPU, the same images).
#   data GREY-SQUARE  the views' definitions (matched cells equal, shuffled cells where perm
#       says, offsets within max_shift), and the trainer's decoding and squeezing (8- and 16-bit grey PNG, RGB PNG,
#       colour JPEG, DICOM MONOCHROME1 with a window and RLE-compressed DICOM from
#       ../shared/data) equal the engine's train_load, run by the grey-square helper.
#   optim  the trainer's AdamW and SGD (decay mask, joint clipping, warm-up + cosine LR)
#       against torch.optim.AdamW / SGD and clip_grad_norm_ over 4 steps.
#   checkpoint PEAC  a checkpoint of the trainer resumes in `peac train` (one more step,
#       finite loss, same configuration, the weights carried over) and `peac export` makes
#       its F16 model, which `peac embed` opens; one of `peac train` resumes in the trainer.
# Images are synthetic PNGs written here (no patient data); everything goes to a temporary
# folder.
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

# Nothing is written into the checkout: no __pycache__ beside the tools, here or in the
# processes started below.
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "pretrain"))
from peac_checkpoint import read_safetensors  # noqa: E402

PY = sys.executable
TRAIN = os.path.join(ROOT, "tools", "pretrain", "train.py")
n_test = 0
failed = 0


def ok(cond, what, detail=""):
    global n_test, failed
    n_test += 1
    print(f"{'ok' if cond else 'not ok'} {n_test} - {what}" + (f"  # {detail}" if detail else ""), flush=True)
    if not cond:
        failed += 1


def write_png(path, img):
    """A grey PNG (img uint8 or uint16 [h, w])."""
    h, w = img.shape
    depth = 16 if img.dtype == np.uint16 else 8
    raw = b"".join(b"\x00" + img[y].astype(">u2" if depth == 16 else np.uint8).tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_images(d, n=6, side=72):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    for k in range(n):
        f = rng.uniform(0.05, 0.3, 4)
        v = 0.5 + 0.3 * np.sin(f[0] * yy + f[1] * xx) * np.cos(f[2] * xx - f[3] * yy)
        v += 0.15 * rng.random((side, side))
        write_png(os.path.join(d, f"img{k}.png"), np.clip(v * 255, 0, 255).astype(np.uint8))
    return d


def run(cmd, env=None, timeout=600):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def trainer(args, nproc=1):
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    if nproc == 1:
        return run([PY, TRAIN] + args, env)
    return run([PY, os.path.join(ROOT, "tools", "pretrain", "torchrun.py"), "--standalone",
                f"--nproc_per_node={nproc}", TRAIN] + args, env)


def loss_rel(out):
    """{term: relative difference} from test-peac-reference --verbose."""
    r = {}
    for ln in out.splitlines():
        f = ln.split()
        if len(f) >= 8 and f[0] == "#" and f[1].startswith("loss.") and f[6] == "rel":
            r[f[1]] = float(f[7])
    return r


def test_objective(ref_exe, tmp):
    """The engine's own check bounds each term at rel 1e-4; the variants can move a term by
    less (the teacher seeing a shuffled crop changes the global term by ~2e-5 here), so each
    term must also agree to rel 2e-6, and each variant must move some term beyond that."""
    script = os.path.join(ROOT, "tools", "reference", "peac_reference.py")
    base = None
    for name, extra in (("MSE local term", []), ("contrastive local term", ["--local-temp", "0.1"]),
                        ("teacher sees shuffled crops", ["--teacher-sees-shuffled", "1"]),
                        ("position head", ["--w-position", "0.5"])):
        fx = os.path.join(tmp, f"fixture-{len(extra)}-{extra[-1] if extra else 'mse'}.safetensors")
        rc, out = run([PY, script, fx] + extra)
        ok(rc == 0, f"objective fixture written ({name})", out.strip().splitlines()[-1] if out else "")
        rc, out = run([ref_exe, "--verbose"], {"PEAC_OBJECTIVE_FIXTURE": fx})
        rel = loss_rel(out)
        # the position head adds a sixth term
        terms = 6 if "--w-position" in extra else 5
        ok(rc == 0 and "not ok" not in out and len(rel) == terms and max(rel.values()) <= 2e-6,
           f"engine reproduces the trainer's objective ({name})",
           f"worst term rel {max(rel.values()):.2g}" if len(rel) == terms else out[-2000:])
        t, _ = read_safetensors(fx)
        terms = {k: float(v) for k, v in t.items() if k.startswith("loss.")}
        if base is None:
            base = terms
        else:
            moved = max(abs(terms[k] - base[k]) / abs(base[k]) for k in base)
            ok(moved > 1e-5, f"the variant changes the objective ({name})", f"max term change {moved:.2g}")


def test_ddp(tmp):
    imgs = make_images(os.path.join(tmp, "imgs"))
    common = ["--preset", "micro", "--data", imgs, "--steps", "3", "--batch", "4", "--seed", "5",
              "--threads", "1", "--warmup", "1", "--lr", "5e-3", "--quiet"]
    rc1, out1 = trainer(common + ["--out", os.path.join(tmp, "one")], 1)
    rc2, out2 = trainer(common + ["--out", os.path.join(tmp, "two")], 2)
    ok(rc1 == 0, "1 process × batch 4, 3 steps", out1[-1500:] if rc1 else "")
    ok(rc2 == 0, "2 gloo processes × batch 2, 3 steps", out2[-1500:] if rc2 else "")
    if rc1 or rc2:
        return
    a, ma = read_safetensors(os.path.join(tmp, "one", "checkpoint.safetensors"))
    b, mb = read_safetensors(os.path.join(tmp, "two", "checkpoint.safetensors"))
    ok(set(a) == set(b), "the same tensors")
    worst, moved = 0.0, 0.0
    for k in a:
        scale = max(1.0, float(a[k].abs().max()))
        worst = max(worst, float((a[k] - b[k]).abs().max()) / scale)
        if k.startswith("student."):
            moved = max(moved, float((a[k] - a["teacher." + k[len("student."):]]).abs().max()))
    # The student moved away from its teacher (≈ the initial weights) by far more than the
    # two runs differ: the comparison is not between two untrained copies.
    ok(worst < 2e-5 and moved > 1e-3, "parameters, teacher and moments agree after 3 steps",
       f"max rel diff {worst:.2e}, student moved {moved:.2e}")
    la = open(os.path.join(tmp, "one", "log.csv")).read().splitlines()[1:]
    lb = open(os.path.join(tmp, "two", "log.csv")).read().splitlines()[1:]
    diffs = [abs(float(x.split(",")[c]) - float(y.split(",")[c])) / max(1e-9, abs(float(x.split(",")[c])))
             for x, y in zip(la, lb) for c in range(1, 6)]
    ok(len(la) == 3 and len(lb) == 3 and max(diffs) < 1e-5,
       "every loss term of every step agrees (order and local normalised over the global batch)",
       f"max rel diff {max(diffs) if diffs else float('nan'):.2e}")


def test_data(helper, tmp):
    from PIL import Image
    import peac_data
    shared = os.path.join(os.environ.get("PEAC_SHARED_DIR") or os.path.join(ROOT, "..", "shared"), "data", "dicom")
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:90, 0:70].astype(np.float64)
    base = 0.5 + 0.3 * np.sin(0.11 * yy + 0.07 * xx) + 0.1 * rng.random((90, 70))
    files = {}
    files["8-bit PNG"] = os.path.join(tmp, "g8.png")
    write_png(files["8-bit PNG"], np.clip(40 + base * 150, 0, 255).astype(np.uint8))
    files["16-bit PNG"] = os.path.join(tmp, "g16.png")
    write_png(files["16-bit PNG"], np.clip(900 + base * 30000, 0, 65535).astype(np.uint16))
    rgb = np.stack([base, base ** 1.3, 1 - 0.5 * base], -1)
    files["RGB PNG"] = os.path.join(tmp, "rgb.png")
    Image.fromarray(np.clip(rgb * 200, 0, 255).astype(np.uint8), "RGB").save(files["RGB PNG"])
    files["colour JPEG"] = os.path.join(tmp, "c.jpg")
    Image.fromarray(np.clip(rgb * 200, 0, 255).astype(np.uint8), "RGB").save(files["colour JPEG"], quality=90)
    files["DICOM MONOCHROME1, window"] = os.path.join(shared, "chest", "gdcm-CR-MONO1-10-chest.dcm")
    files["DICOM RLE"] = os.path.join(shared, "non-chest-format-coverage", "WG04_RG2_RLE.dcm")
    side = 48
    for name, f in files.items():
        out = os.path.join(tmp, "engine.npy")
        rc, msg = run([helper, str(side), out, f])
        if rc != 0:
            ok(False, f"the engine loads the {name}", msg[-500:])
            continue
        ref = np.load(out)
        try:
            ours = peac_data.load_grey(f, side)
        except Exception as e:  # noqa: BLE001 — reported as the failure
            ok(False, f"the trainer loads the {name}", str(e))
            continue
        d = float(np.abs(ours - ref).max())
        ok(ours.shape == ref.shape and d < 2e-5 and float(ref.std()) > 0.05,
           f"{name}: the trainer's grey square equals the engine's", f"max diff {d:.2g}")


def test_views():
    """Definitions, not outputs: a matched pair of cells shows the same pixels; a shuffled
    crop's cell i is the clean crop's cell perm[i]; offsets stay within max_shift."""
    import peac_data
    G, cell, ms = 6, 8, 3
    img = np.random.default_rng(1).random((G * cell + ms * cell + 5, G * cell + ms * cell + 5)).astype(np.float32)
    off = {"style": "genesis", "p_shuffle": 0.0, "shuffle_windows": 1, "shuffle_max": 2, "p_bezier": 0.0,
           "p_paint": 0.0, "p_inpaint": 0.0, "gamma_sigma": 0.5, "p_invert": 0.25}
    cells = lambda x: x[0].reshape(G, cell, G, cell).transpose(0, 2, 1, 3).reshape(G * G, cell, cell)  # noqa: E731
    bad_pair = bad_perm = n_pairs = n_shuf = 0
    shifts = set()
    for k in range(60):
        rng = np.random.default_rng([9, k])
        x1, x1s, x2, sh, perm, pair, _ = peac_data.make_sample(img, G, cell, {"max_shift": ms, "p_shuffle": 0.5,
                                                                             "distort": off}, rng)
        c1, c1s, c2 = cells(x1), cells(x1s), cells(x2)
        for i in range(G * G):
            if pair[i] >= 0:
                n_pairs += 1
                bad_pair += not np.array_equal(c1[i], c2[pair[i]])
            if sh:
                bad_perm += not np.array_equal(c1s[i], c1[perm[i]])
        n_shuf += sh
        if not sh:
            bad_perm += not np.array_equal(x1s, x1)
        i = int(np.argmax(pair >= 0))
        shifts.add((i // G - pair[i] // G, i % G - pair[i] % G))
    ok(bad_pair == 0 and n_pairs > 0, "every matched cell pair shows the same pixels", f"{n_pairs} pairs")
    ok(bad_perm == 0 and 10 < n_shuf < 50, "a shuffled crop's cell i is the clean cell perm[i]", f"{n_shuf}/60 shuffled")
    ok(max(max(abs(a), abs(b)) for a, b in shifts) <= ms and len(shifts) > 10,
       "crop offsets are whole cells within max_shift", f"{len(shifts)} distinct offsets")
    # The position targets from the image itself: pixel (j, i) of one image holds
    # (j + 1/2)/h, of another (i + 1/2)/w, so a cell's mean is its centre in the image; the
    # same seed cuts the same crops.
    h, w = img.shape[0], img.shape[1] + 3
    jj, ii = np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")
    worst = 0.0
    for k in range(20):
        got = []
        for a, coord in enumerate((jj, ii)):
            x1, x1s, x2, sh, perm, pair, where = peac_data.make_sample(
                coord.astype(np.float32), G, cell, {"max_shift": ms, "p_shuffle": 0.5,
                                                    "distort": off}, np.random.default_rng([4, k]))
            for crop, x in ((0, x1s), (1, x2)):
                m = cells(x).mean((1, 2)) * peac_data.PEAC_STD + peac_data.PEAC_MEAN
                worst = max(worst, float(np.abs(where[crop, :, a] - (2 * m - 1)).max()))
            got.append(where)
        worst = max(worst, float(np.abs(got[0] - got[1]).max()))
    ok(worst < 1e-5, "each token's position target is its cell's centre in the image",
       f"max diff {worst:.2g}")


def test_optim():
    import torch
    import peac_torch as pt
    for kind, name in ((0, "AdamW"), (1, "SGD")):
        opt = {"kind": kind, "lr": 0.05, "min_lr": 1e-3, "warmup_steps": 2, "total_steps": 6,
               "weight_decay": 0.1, "beta1": 0.8, "beta2": 0.95, "eps": 1e-8, "momentum": 0.7,
               "clip_norm": 0.5}
        g = torch.Generator().manual_seed(kind)
        shapes = {"cls_token": (1, 1, 4), "pos_embed": (1, 3, 4), "blocks.0.w": (4, 4),
                  "blocks.0.b": (4,), "head.weight": (3, 4)}
        ours = {k: torch.randn(s, generator=g) for k, s in shapes.items()}
        ref = {k: v.clone().requires_grad_(True) for k, v in ours.items()}
        ours = {k: v.clone().requires_grad_(True) for k, v in ours.items()}
        names = list(shapes)
        o = pt.Optimiser({"backbone": [(k, ours[k]) for k in names[:4]], "heads": [(names[4], ours[names[4]])]}, opt)
        dec = [ref[k] for k in names if pt.decays(k, ref[k])]
        nodec = [ref[k] for k in names if not pt.decays(k, ref[k])]
        groups = [{"params": dec, "weight_decay": opt["weight_decay"]}, {"params": nodec, "weight_decay": 0.0}]
        r = (torch.optim.AdamW(groups, lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]), eps=opt["eps"])
             if kind == 0 else torch.optim.SGD(groups, lr=opt["lr"], momentum=opt["momentum"]))
        lrs = []
        for step in range(4):
            grads = {k: torch.randn(s, generator=g) * (3.0 if step % 2 else 0.1) for k, s in shapes.items()}
            for k in names:
                ours[k].grad = grads[k].clone()
                ref[k].grad = grads[k].clone()
            lrs.append(o.step(o.grad_norm()))
            torch.nn.utils.clip_grad_norm_([ref[k] for k in names], opt["clip_norm"])
            for grp in r.param_groups:
                grp["lr"] = lrs[-1]
            r.step()
        d = max(float((ours[k] - ref[k]).abs().max()) for k in names)
        # warm-up (s + 1)/2 · lr, then min + ½ (lr − min)(1 + cos π (s − 2)/(6 − 2))
        hand = [0.025, 0.05, 0.05, 0.001 + 0.5 * 0.049 * (1 + math.cos(math.pi / 4))]
        ok(d < 1e-6 and max(abs(a - b) for a, b in zip(lrs, hand)) < 1e-12,
           f"{name}: the trainer's updates equal torch.optim's, the LR the hand-derived schedule",
           f"max diff {d:.2g}, lr {['%.5g' % x for x in lrs]}")


def state(path):
    t, m = read_safetensors(path)
    s = json.loads(m["peac.train"])
    return t, s, {k: s[k] for k in ("seed", "batch", "objective", "optimiser")}


def last_total(log):
    rows = open(log).read().splitlines()
    return int(rows[-1].split(",")[0]), float(rows[-1].split(",")[1])


def test_checkpoint(peac, tmp):
    imgs = make_images(os.path.join(tmp, "imgs2"))
    # trainer → peac train
    a = os.path.join(tmp, "a.safetensors")
    # 40 px: a 5 × 5 grid, so the heads' tensors (order: 25 outputs) are not multiples of
    # 16 floats and the engine's flat moment table has padding between them.
    rc, out = trainer(["--preset", "micro", "--config", '{"img_size": 40}', "--data", imgs, "--steps", "5",
                       "--stop-after", "2",
                       "--batch", "4", "--threads", "1", "--quiet", "--jitter", "3",
                       "--distortions", "reference", "--teacher-sees-shuffled", "1", "--out", a])
    ok(rc == 130 and os.path.exists(a), "trainer: 2 of 5 steps, checkpoint saved (exit 130)",
       out[-1500:] if rc != 130 else "")
    if rc != 130:
        return
    b = os.path.join(tmp, "b.safetensors")
    rc, out = run([peac, "train", "--resume", a, "--out", b, "--stop-after", "1", "--threads", "1",
                   "--quiet"])
    ok(rc == 130, "peac train --resume continues the trainer's checkpoint", out[-1500:] if rc != 130 else "")
    if rc == 130:
        ta, sa, ca = state(a)
        tb, sb, cb = state(b)
        step, total = last_total(os.path.join(tmp, "b.log.csv"))
        ok(sb["step"] == 3 and step == 3 and math.isfinite(total), "one more step, finite loss",
           f"step {sb['step']}, loss {total}")
        ok(ca == cb, "the configuration is kept (objective, distortions, optimiser, batch, seed)")
        d = max(float((ta[k] - tb[k]).abs().max()) for k in ta if k.startswith("teacher"))
        ok(d < 1e-3, "the engine continued the trainer's weights", f"teacher moved {d:.2e}")
        m = os.path.join(tmp, "model.safetensors")
        rc, out = run([peac, "export", b, "-o", m, "--dtype", "f16"])
        ok(rc == 0, "peac export makes the F16 model", out[-800:] if rc else "")
        rc, out = run([peac, "embed", "--model", m, os.path.join(imgs, "img0.png"), "-o",
                       os.path.join(tmp, "emb.safetensors")])
        ok(rc == 0, "peac embed opens the exported model", out[-800:] if rc else "")
    # peac train → trainer
    c = os.path.join(tmp, "c.safetensors")
    rc, out = run([peac, "train", "--preset", "micro", "--config", '{"img_size": 40}', "--data", imgs,
                   "--steps", "5", "--stop-after", "2",
                   "--batch", "4", "--threads", "1", "--quiet", "--local-temp", "0.1", "--out", c])
    ok(rc == 130, "peac train: 2 of 5 steps", out[-1500:] if rc != 130 else "")
    if rc != 130:
        return
    d_ = os.path.join(tmp, "d.safetensors")
    rc, out = trainer(["--resume", c, "--out", d_, "--stop-after", "1", "--threads", "1", "--quiet"])
    ok(rc == 130, "the trainer resumes peac train's checkpoint", out[-1500:] if rc != 130 else "")
    if rc == 130:
        tc, sc, cc = state(c)
        td, sd, cd = state(d_)
        step, total = last_total(os.path.join(tmp, "d.log.csv"))
        ok(sd["step"] == 3 and step == 3 and math.isfinite(total), "one more step, finite loss",
           f"step {sd['step']}, loss {total}")
        ok(cc == cd, "the configuration is kept")
        d = max(float((tc[k] - td[k]).abs().max()) for k in tc if k.startswith("teacher"))
        ok(d < 1e-3, "the trainer continued the engine's weights", f"teacher moved {d:.2e}")
        nz = float(td["optim.backbone.v"].abs().max())
        ok(nz > 0, "the optimiser moments were carried", f"max v {nz:.2e}")


def main():
    what = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="peac-pretrain-") as tmp:
        if what == "objective":
            test_objective(sys.argv[2], tmp)
        elif what == "ddp":
            test_ddp(tmp)
        elif what == "optim":
            test_optim()
        elif what == "data":
            test_views()
            test_data(sys.argv[2], tmp)
        elif what == "checkpoint":
            test_checkpoint(sys.argv[2], tmp)
        else:
            print(f"unknown test {what}", file=sys.stderr)
            return 2
    print(f"1..{n_test}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
