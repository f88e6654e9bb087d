# SPDX-License-Identifier: GPL-3.0-or-later
#
# train.py: `peac train`'s objective at cluster scale — PyTorch DistributedDataParallel,
# started by torchrun (one process per GPU, or per CPU share with gloo), writing and
# resuming the engine's checkpoint format so that a run moves between the cluster and
# `peac train --resume` / `peac export` / the app. The objective, schedules and updates
# are tools/pretrain/peac_torch.py (the statement the engine is tested against), the data
# and views peac_data.py, the file format peac_checkpoint.py; this file owns the command
# line (the option names of `peac train`), the process group, the sampler (epoch
# permutations of the image list seeded by (seed, epoch); step s takes global positions
# s·batch … s·batch + batch − 1, rank r the r-th share, each sample's crops drawn from a
# seed of its global position, so N processes × batch/N compute what one process computes
# on the whole batch), the loop, the log and the checkpoints (rank 0, atomic).
#   torchrun --standalone --nproc_per_node N tools/pretrain/train.py --data DIR --out DIR
# Exit status as `peac train`: 0 done, 1 failed (non-finite loss, unreadable checkpoint,
# unwritable output), 2 bad command line or no usable image, 130/143 stopped and saved.
import argparse
import contextlib
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peac_checkpoint as ckio  # noqa: E402
import peac_data  # noqa: E402
import peac_torch as pt  # noqa: E402

PRESETS = {
    "micro": {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 2, "num_heads": 2},
    "tiny": {"img_size": 224, "patch_size": 16, "embed_dim": 192, "depth": 12, "num_heads": 3},
    "small": {"img_size": 224, "patch_size": 16, "embed_dim": 384, "depth": 12, "num_heads": 6},
    "base": {"img_size": 224, "patch_size": 16, "embed_dim": 768, "depth": 12, "num_heads": 12},
}

# Configuration options: (flag, section, key, type). With --resume they are refused.
CONFIG_OPTS = [
    ("--proj-hidden", "objective", "proj_hidden", int, 1, 65536),
    ("--proj-out", "objective", "proj_out", int, 1, 65536),
    ("--local-hidden", "objective", "local_hidden", int, 1, 65536),
    ("--local-out", "objective", "local_out", int, 1, 65536),
    ("--w-order", "objective", "w_order", float, 0, 1e12),
    ("--w-restore", "objective", "w_restore", float, 0, 1e12),
    ("--w-global", "objective", "w_global", float, 0, 1e12),
    ("--w-local", "objective", "w_local", float, 0, 1e12),
    ("--local-temp", "objective", "local_temp", float, 0, 100),
    ("--p-shuffle", "objective", "p_shuffle", float, 0, 1),
    ("--max-shift", "objective", "max_shift", int, 1, 64),
    ("--ema-momentum", "objective", "momentum0", float, 0, 1),
    ("--jitter", "objective", "jitter", int, 0, 63),
    ("--teacher-sees-shuffled", "objective", "teacher_sees_shuffled", int, 0, 1),
    ("--w-position", "objective", "w_position", float, 0, 1e12),
    ("--gamma-sigma", "distort", "gamma_sigma", float, 0, 10),
    ("--p-invert", "distort", "p_invert", float, 0, 1),
    ("--p-pixel-shuffle", "distort", "p_shuffle", float, 0, 1),
    ("--shuffle-windows", "distort", "shuffle_windows", int, 1, 1e6),
    ("--shuffle-max", "distort", "shuffle_max", int, 2, 64),
    ("--p-bezier", "distort", "p_bezier", float, 0, 1),
    ("--p-paint", "distort", "p_paint", float, 0, 1),
    ("--p-inpaint", "distort", "p_inpaint", float, 0, 1),
    ("--lr", "optimiser", "lr", float, 0, 10),
    ("--min-lr", "optimiser", "min_lr", float, 0, 10),
    ("--warmup", "optimiser", "warmup_steps", int, 0, 1e12),
    ("--weight-decay", "optimiser", "weight_decay", float, 0, 10),
    ("--clip", "optimiser", "clip_norm", float, 0, 1e12),
    ("--beta1", "optimiser", "beta1", float, 0, 0.999999),
    ("--beta2", "optimiser", "beta2", float, 0, 0.999999999),
    ("--eps", "optimiser", "eps", float, 1e-30, 1),
    ("--momentum", "optimiser", "momentum", float, 0, 0.999999),
]
# The ranges are those of cli-train-opts.c; so are these run options'.
RUN_RANGES = {"--batch": (1, 4096), "--steps": (1, 1e12), "--seed": (0, 2**64 - 1),
              "--save-every": (0, 1e12), "--log-every": (1, 1e12), "--stop-after": (1, 1e12),
              "--workers": (0, 1024), "--threads": (0, 1024)}
HYPER = [o[0] for o in CONFIG_OPTS] + ["--preset", "--config", "--distortions", "--optimizer",
                                       "--batch", "--seed"]


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="train.py", description="PEAC pretraining with PyTorch DDP (peac train's objective "
        "and checkpoints). Launch with torchrun --nproc_per_node N.")
    p.add_argument("paths", nargs="*", help="training images (as --data)")
    p.add_argument("--data", action="append", default=[], help="a PNG/JPEG/DICOM file or a folder (repeatable)")
    p.add_argument("--out", help="a folder (checkpoint.safetensors + log.csv) or FILE.safetensors")
    p.add_argument("--resume", help="continue a checkpoint of peac train or of this trainer")
    p.add_argument("--steps", type=int, help="steps of the run (1000); with --resume a new end")
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--log-every", type=int, default=1)
    p.add_argument("--stop-after", type=int, help="stop after N steps of this run and save (exit 130)")
    p.add_argument("--preset", choices=sorted(PRESETS))
    p.add_argument("--config", help="ViT keys overriding the preset's (JSON)")
    p.add_argument("--distortions", choices=["genesis", "reference"])
    p.add_argument("--optimizer", choices=["adamw", "sgd"])
    p.add_argument("--batch", type=int, help="images per step over all processes (8)")
    p.add_argument("--seed", type=int)
    for flag, _, _, typ, _, _ in CONFIG_OPTS:
        p.add_argument(flag, type=typ)
    p.add_argument("--workers", type=int, default=0,
                   help="data-loader processes per rank (0: images decoded once, kept in memory)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads per process (0: cores / local processes)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--no-bf16", action="store_true", help="on CUDA, train in float32")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--print-config", action="store_true")
    a = p.parse_args(argv)
    a.data += a.paths
    given = {t for t in argv if t.startswith("--")}
    a.given = {g.split("=")[0] for g in given}
    ranges = {o[0]: (o[4], o[5]) for o in CONFIG_OPTS} | RUN_RANGES
    for flag, (lo, hi) in ranges.items():
        v = getattr(a, flag[2:].replace("-", "_"))
        if v is not None and flag in a.given and not lo <= v <= hi:
            p.error(f"{flag}: '{v}' is out of range ({lo:g} … {hi:g})")
    return a, p


def usage_error(msg):
    print(f"train.py: {msg}", file=sys.stderr)
    sys.exit(2)


def default_config(vit, steps):
    """peac_train_defaults + peac_obj_defaults + peac_distort_defaults."""
    D, S = vit["embed_dim"], vit["img_size"]
    G = S // vit["patch_size"]
    obj = {"proj_hidden": 2 * D, "proj_out": D, "local_hidden": 2 * D, "local_out": D,
           "w_order": 1.0, "w_restore": 1.0, "w_global": 1e5 / 8192.0, "w_local": 1.0,
           "local_temp": 0.0, "p_shuffle": 0.5, "max_shift": max(G // 2, 1), "momentum0": 0.999,
           "total_steps": steps, "jitter": 0, "teacher_sees_shuffled": 0, "w_position": 0.0,
           "distort": distort_defaults("genesis", S)}
    opt = {"kind": 0, "lr": 5e-4, "min_lr": 1e-6, "warmup_steps": steps // 10,
           "total_steps": steps, "weight_decay": 0.05, "beta1": 0.9, "beta2": 0.999,
           "eps": 1e-8, "momentum": 0.9, "clip_norm": 3.0}
    return {"seed": 1, "batch": 8, "objective": obj, "optimiser": opt}


def distort_defaults(style, S):
    d = {"style": "genesis", "p_shuffle": 0.5, "shuffle_windows": max(S * S // 64, 1),
         "shuffle_max": max(S // 8, 2), "p_bezier": 0.9, "p_paint": 0.9, "p_inpaint": 0.5,
         "gamma_sigma": 0.5, "p_invert": 0.25}
    if style == "reference":
        d.update(style="reference", p_shuffle=0.0, p_bezier=0.0, p_paint=1.0, p_inpaint=0.2)
    return d


def resolve(a):
    """(vit, cfg, step, state tensors or None, meta) from the command line or --resume."""
    if a.resume:
        path = os.path.join(a.resume, "checkpoint.safetensors") if os.path.isdir(a.resume) else a.resume
        tensors, meta = ckio.read_safetensors(path)
        if meta.get("peac.arch", "vit") != "vit":
            raise ValueError(f"{path}: a {meta.get('peac.arch')} checkpoint; this trainer trains ViTs "
                             "(Swin follows the engine's Swin training)")
        vit = ckio.vit_config_parse(meta.get("peac.config"), path)
        cfg, step, _ = ckio.state_parse(meta.get("peac.train"), path)
        if a.steps:
            if a.steps <= step or a.steps <= cfg["optimiser"]["warmup_steps"]:
                raise ValueError(f"{path}: cannot end the run at step {a.steps}: it is at step {step}, "
                                 f"with {cfg['optimiser']['warmup_steps']} warm-up steps")
            cfg["optimiser"]["total_steps"] = a.steps
            cfg["objective"]["total_steps"] = max(cfg["objective"]["total_steps"], a.steps)
        return vit, cfg, step, tensors, meta, path
    vit = {"in_chans": 3, "mlp_ratio": 4.0, "qkv_bias": True, "layernorm_eps": 1e-6}
    vit.update(PRESETS[a.preset or "tiny"])
    if a.config:
        try:
            extra = json.loads(a.config)
        except ValueError as e:
            extra = e
        if not isinstance(extra, dict):
            usage_error(f"--config: not a JSON object ({extra})")
        vit.update(extra)
    steps = a.steps or 1000
    cfg = default_config(vit, steps)
    if a.distortions:
        cfg["objective"]["distort"] = distort_defaults(a.distortions, vit["img_size"])
    for flag, sect, key, _, _, _ in CONFIG_OPTS:
        v = getattr(a, flag[2:].replace("-", "_"))
        if v is not None:
            (cfg["objective"]["distort"] if sect == "distort" else cfg[sect])[key] = v
    if a.optimizer:
        cfg["optimiser"]["kind"] = 1 if a.optimizer == "sgd" else 0
    if a.batch:
        cfg["batch"] = a.batch
    if a.seed is not None:
        cfg["seed"] = a.seed
    if not 0 <= cfg["objective"]["jitter"] < vit["patch_size"]:
        usage_error(f"--jitter: {cfg['objective']['jitter']} px is not below one cell "
                    f"({vit['patch_size']} px)")
    return vit, cfg, 0, None, {}, None


class Positions(torch.utils.data.Sampler):
    """Global positions of this rank from step `start` on."""

    def __init__(self, start, end, batch, rank, world):
        self.start, self.end, self.batch, self.rank, self.world = start, end, batch, rank, world

    def __iter__(self):
        bl = self.batch // self.world
        for s in range(self.start, self.end):
            base = s * self.batch + self.rank * bl
            yield from range(base, base + bl)

    def __len__(self):
        return (self.end - self.start) * (self.batch // self.world)


class DataError(RuntimeError):
    """An image that cannot be decoded while the run draws it (--workers > 0)."""


class Samples(torch.utils.data.Dataset):
    def __init__(self, files, greys, side, vit, cfg):
        self.files, self.greys, self.side = files, greys, side
        self.G, self.cell = vit["img_size"] // vit["patch_size"], vit["patch_size"]
        self.obj, self.seed, self.perms = cfg["objective"], cfg["seed"], {}

    def image_of(self, q):
        n = len(self.files)
        epoch = q // n
        if epoch not in self.perms:
            self.perms = {epoch: np.random.default_rng([self.seed, epoch, 0x5A4D]).permutation(n)}
        return int(self.perms[epoch][q % n])

    def __getitem__(self, q):
        i = self.image_of(q)
        try:
            g = self.greys[i] if self.greys is not None else peac_data.load_grey(self.files[i], self.side)
        except (ValueError, OSError) as e:
            raise DataError(f"{self.files[i]}: {e}") from None
        rng = np.random.default_rng([self.seed, q, 0x7E57])
        x1, x1s, x2, sh, perm, pair, where = peac_data.make_sample(g, self.G, self.cell, self.obj, rng)
        return {"x1": torch.from_numpy(x1), "x1s": torch.from_numpy(x1s), "x2": torch.from_numpy(x2),
                "shuffled": torch.tensor(sh), "perm": torch.from_numpy(perm).long(),
                "pair": torch.from_numpy(pair).long(), "where": torch.from_numpy(where)}


def build(vit, cfg):
    o = cfg["objective"]
    G = vit["img_size"] // vit["patch_size"]
    mk = lambda: pt.Heads(vit["embed_dim"], G, vit["patch_size"], o["proj_hidden"],  # noqa: E731
                          o["proj_out"], o["local_hidden"], o["local_out"],
                          o.get("w_position", 0.0) > 0)
    return pt.ViT(vit), mk(), pt.ViT(vit), mk()


def load_branch(module, tensors, prefix, path):
    with torch.no_grad():
        for name, p in module.named_parameters():
            t = tensors.get(prefix + name)
            if t is None or t.numel() != p.numel():
                raise ValueError(f"{path}: {'wrong size of' if t is not None else 'no tensor'} '{prefix + name}'")
            p.copy_(t.reshape(p.shape))


def save(path, sv, sh, tv, th, optim, vit, cfg, step, run_info, pretrain_info):
    T = {}
    for prefix, m in (("student.", sv), ("teacher.", tv), ("student_head.", sh), ("teacher_head.", th)):
        for name, p in m.named_parameters():
            T[prefix + name] = p
    for g in ("backbone", "heads"):
        for w in ("m", "v"):
            T[f"optim.{g}.{w}"] = optim.flat(g, w)
    rng = ckio.splitmix_state((cfg["seed"] ^ 0x5EED5EED ^ (step * 0x9E3779B97F4A7C15)) & (2**64 - 1))
    meta = {"peac.arch": "vit", "peac.layout": "timm", "peac.config": ckio.vit_config_json(vit),
            "peac.train": ckio.state_json(cfg, step, rng),
            "peac.source": "tools/pretrain/train.py, PyTorch " + torch.__version__,
            "peac.run": json.dumps(run_info, separators=(",", ":")),
            "peac.pretrain": json.dumps(pretrain_info, separators=(",", ":"))}
    ckio.write_safetensors(path, T, meta)


def output_paths(out):
    if out.endswith(".safetensors"):
        d, base = os.path.split(out)
        stem = base[:-len(".safetensors")]
        log = os.path.join(d, "log.csv" if stem == "checkpoint" else stem + ".log.csv")
        return out, log, d or "."
    return os.path.join(out, "checkpoint.safetensors"), os.path.join(out, "log.csv"), out


def main(argv):
    a, parser = parse_args(argv)
    if a.resume and (a.given & set(HYPER)):
        parser.exit(2, f"train.py: {sorted(a.given & set(HYPER))[0]} cannot be given with --resume: the "
                    "run continues with the configuration stored in the checkpoint\n")
    try:
        vit, cfg, step0, tensors, meta, ckpt_in = resolve(a)
    except (ValueError, OSError) as e:
        print(f"train.py: {e}", file=sys.stderr)
        return 1
    if a.print_config:
        # the keys of `peac train --print-config`: the configuration, then arch and model
        print(json.dumps({**cfg, "arch": "vit", "model": vit}, indent=2))
        return 0
    distributed = "WORLD_SIZE" in os.environ
    use_cuda = a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available())
    rank, world, local = 0, 1, 0
    if distributed:
        dist.init_process_group("nccl" if use_cuda else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", 0))
    dev = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    local_n = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    torch.set_num_threads(a.threads or max(1, (os.cpu_count() or 1) // local_n))
    log = (lambda m: print(m, file=sys.stderr)) if rank == 0 else (lambda m: None)

    def fail(code, msg):
        log(f"train.py: {msg}")
        if distributed:
            dist.destroy_process_group()
        return code

    B = cfg["batch"]
    if B % world:
        return fail(2, f"--batch {B} is not a multiple of the {world} processes")
    run = json.loads(meta.get("peac.run", "null") or "null") if meta else None
    data = [os.path.abspath(p) for p in a.data] or (list(run.get("data", [])) if run else [])
    if not data:
        return fail(2, "no training images: give --data DIR")
    out = a.out or a.resume
    if not out:
        return fail(2, "--out DIR is required")
    ckpt, log_path, out_dir = output_paths(out)
    if rank == 0 and not out.endswith(".safetensors"):
        os.makedirs(out_dir, exist_ok=True)
    o = cfg["objective"]
    side = peac_data.image_side(vit, o)
    files = peac_data.collect(data, log)
    greys = None
    if a.workers == 0:
        greys, kept = [], []
        for f in files:
            try:
                greys.append(peac_data.load_grey(f, side))
                kept.append(f)
            except (ValueError, OSError) as e:
                log(f"skipped {f}: {e}")
        files = kept
    if not files:
        return fail(2, "no usable image found")

    sv, sh, tv, th = build(vit, cfg)
    if tensors is not None:
        try:
            for m, prefix in ((sv, "student."), (tv, "teacher."), (sh, "student_head."), (th, "teacher_head.")):
                load_branch(m, tensors, prefix, ckpt_in)
        except ValueError as e:
            return fail(1, str(e))
    else:
        gen = torch.Generator().manual_seed(cfg["seed"])
        pt.init_engine_style(sv, gen)
        pt.init_engine_style(sh, gen)
        tv.load_state_dict(sv.state_dict())
        th.load_state_dict(sh.state_dict())
    student = pt.Student(sv, sh).to(dev)
    tv, th = tv.to(dev).eval(), th.to(dev).eval()
    for p in list(tv.parameters()) + list(th.parameters()):
        p.requires_grad_(False)
    optim = pt.Optimiser({"backbone": list(sv.named_parameters()), "heads": list(sh.named_parameters())},
                         cfg["optimiser"])
    optim.step_count = step0
    if tensors is not None:
        try:
            for g in ("backbone", "heads"):
                for w in ("m", "v"):
                    optim.load_flat(g, w, tensors[f"optim.{g}.{w}"].to(dev))
        except (KeyError, ValueError) as e:
            return fail(1, f"{ckpt_in}: optimiser state: {e}")
    model = torch.nn.parallel.DistributedDataParallel(
        student, device_ids=[local] if use_cuda else None) if distributed else student

    end = cfg["optimiser"]["total_steps"]
    if a.stop_after:
        end = min(end, step0 + a.stop_after)
    loader = torch.utils.data.DataLoader(
        Samples(files, greys, side, vit, cfg), batch_size=B // world,
        sampler=Positions(step0, end, B, rank, world), num_workers=a.workers,
        pin_memory=use_cuda, persistent_workers=a.workers > 0)
    run_info = {"preset": a.preset if not a.resume else (run or {}).get("preset"), "data": data,
                "val": None, "val_every": 100, "threads": torch.get_num_threads(),
                "save_every": a.save_every}
    stop = {"sig": 0}
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda n, f: stop.__setitem__("sig", n))
    obj = dict(o)
    log_f = None
    if rank == 0:
        keep = []
        if step0 > 0 and os.path.exists(log_path):
            with open(log_path) as f:
                keep = [ln for ln in f.read().splitlines()[1:] if ln and int(ln.split(",")[0]) <= step0]
        log_f = open(log_path, "w")
        log_f.write("step,total,order,restore,global,local,lr,grad_norm,momentum,"
                    "epoch,val_total,val_order,val_restore,val_global,val_local,position\n")
        for ln in keep:
            log_f.write(ln + "\n")
        log_f.flush()
    step, t0, code = step0, time.time(), 0
    bf16 = use_cuda and not a.no_bf16

    def info():
        return {"world_size": world, "images_seen": step * B, "n_images": len(files),
                "sampler": "epoch permutations of the sorted image list seeded by (seed, epoch); "
                           "crops seeded by (seed, global position)"}

    batches = iter(loader)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            break
        except Exception as e:  # a worker's DataError arrives re-raised with its message
            if "DataError" not in type(e).__name__ and "DataError" not in str(e):
                raise
            return fail(1, f"cannot read a training image: {str(e).strip().splitlines()[-1]}")
        batch = {k: v.to(dev, non_blocking=True) for k, v in batch.items()}
        # samples stack to [B, 2, G², 2]; the objective reads the engine's [2, B, G², 2]
        batch["where"] = batch["where"].transpose(0, 1)
        counts = pt.batch_counts({k: batch[k].cpu() for k in ("shuffled", "pair")})
        if distributed:
            dist.all_reduce(counts)
        with (torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()):
            tout = pt.teacher_outputs(tv, th, pt.teacher_input(batch, obj))
            xs = torch.cat([batch["x1s"], batch["x2"]])
            terms = model(xs, tout, batch, counts, obj, world)
        model.zero_grad(set_to_none=True)
        terms["total"].backward()
        norm = optim.grad_norm()
        # the five terms, the position term (0 without the head), then the stop signal
        vals = torch.tensor([float(terms[k]) for k in ("total", "order", "restore", "global", "local")]
                            + [float(terms.get("position", 0.0)), float(stop["sig"])],
                            dtype=torch.float64)
        if distributed:
            dist.all_reduce(vals)
            vals[:6] /= world
        if not (math.isfinite(float(vals[0])) and math.isfinite(norm)):
            code = fail(1, f"the loss became non-finite at step {step + 1} ({float(vals[0]):g}); the step "
                        "was not applied")
            return code
        lr = optim.step(norm)
        mom = pt.ema_momentum(o["momentum0"], o["total_steps"], step)
        pt.ema_update([tv, th], [sv, sh], mom)
        step += 1
        if rank == 0:
            ep = step * B / len(files)
            log_f.write(f"{step},{vals[0]:.17g},{vals[1]:.17g},{vals[2]:.17g},{vals[3]:.17g},{vals[4]:.17g},"
                        f"{lr:.17g},{norm:.17g},{mom:.17g},{ep:.17g},,,,,,{vals[5]:.17g}\n")
            log_f.flush()
            if not a.quiet and (step % a.log_every == 0 or step == end):
                ips = (step - step0) * B / max(time.time() - t0, 1e-9)
                print(f"step {step}/{cfg['optimiser']['total_steps']}  epoch {ep:.2f}  loss {vals[0]:.5f}  "
                      f"order {vals[1]:.4f}  restore {vals[2]:.4f}  global {vals[3]:.4f}  local {vals[4]:.4f}  "
                      f"lr {lr:.3g}  |g| {norm:.3g}  {ips:.1f} img/s", flush=True)
            if a.save_every > 0 and step % a.save_every == 0 and step != end:
                save(ckpt, sv, sh, tv, th, optim, vit, cfg, step, run_info, info())
        if float(vals[6]) > 0:
            code = 130 if int(vals[6]) // world == signal.SIGINT else 143
            break
    if a.stop_after and step < cfg["optimiser"]["total_steps"] and code == 0:
        code = 130
    if rank == 0:
        try:
            save(ckpt, sv, sh, tv, th, optim, vit, cfg, step, run_info, info())
        except OSError as e:
            code = fail(1, f"cannot write {ckpt}: {e}")
            return code
        log_f.close()
        log(f"train.py: step {step}: {ckpt} ({(time.time() - t0):.1f} s)")
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
