# SPDX-License-Identifier: GPL-3.0-or-later
#
# peac_data: the trainer's images and views, following the engine step by step. Folders
# are walked recursively in sorted order taking .png/.jpg/.jpeg/.dcm/.dicom and
# extension-less files (cli-train-data.c); an image is decoded to grey (PNG: 8/16-bit
# values kept, RGB by Rec. 601 luma; JPEG: libjpeg's luma; DICOM with pydicom: rescale
# slope/intercept, MONOCHROME1 inverted), mapped to [0, 1] by the default window (the
# first window of the file, else its min…max, DICOM PS3.3 linear; px-image.c), squeezed
# whole to a side × side square with the antialiased triangle filter of preprocess.c.
# A sample is then built as peac_batch_fill does: a pair of grid-aligned crops on one
# lattice (views.c), the cell pairing, and either a cell shuffle (probability p_shuffle)
# or the appearance distortions of distort.c (genesis or reference style). The draws come
# from a numpy generator seeded with (seed, global sample index) — not the engine's
# xoshiro stream, but the same distributions — so any process of a distributed run cuts
# the same crops for a given sample. A packed image (pack.py: an image already squeezed
# to the run's side, stored as 8-bit grey PNG with the text key PACKED_KEY) is read as
# value/255 without the default window, since its squeeze is already done; read at another
# side it is refused.
import functools
import math
import os

import numpy as np

from peac_torch import PEAC_MEAN, PEAC_STD

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".dcm", ".dicom")
# The PNG text key of a packed image; its value is the side it was squeezed to.
PACKED_KEY = "peac.squeezed-side"


def image_side(vit, obj):
    """peac_train_image_side: the side every training image is squeezed to (the crops'
    lattice plus the jitter)."""
    return (vit["img_size"] // vit["patch_size"] + obj["max_shift"]) * vit["patch_size"] + obj["jitter"]


def collect(paths, log):
    out = []

    def walk(d, depth):
        try:
            names = sorted(n for n in os.listdir(d) if not n.startswith("."))
        except OSError as e:
            log(f"skipped {d}: {e.strerror}")
            return
        for n in names:
            p = os.path.join(d, n)
            if os.path.isdir(p):
                if depth < 64:
                    walk(p, depth + 1)
            elif "." not in n or os.path.splitext(n)[1].lower() in IMAGE_EXTS:
                out.append(p)

    for p in paths:
        if os.path.isdir(p):
            walk(p, 0)
        elif os.path.exists(p):
            out.append(p)
        else:
            log(f"skipped {p}: No such file or directory")
    return out


def _window(pixels, center=None, width=None):
    """px_image_to_unit: the default window (first preset, else min…max) to [0, 1]."""
    if center is None or width is None or width <= 0:
        lo_, hi_ = float(pixels.min()), float(pixels.max())
        center, width = (lo_ + hi_) / 2.0, max(hi_ - lo_, 1.0)
    width = max(width, 1.0)
    if width > 1.0:
        lo, span = center - 0.5 - (width - 1.0) / 2.0, width - 1.0
    else:
        lo, span = center - 0.5, 1e-6
    return np.clip((pixels.astype(np.float64) - lo) / span, 0.0, 1.0).astype(np.float32)


def _first(v):
    try:
        return float(v[0])
    except TypeError:
        return float(v)


def decode_unit(path):
    """Grey [h, w] float32 in [0, 1] as px_image_load + px_image_to_unit give it."""
    with open(path, "rb") as f:
        head = f.read(132)
    if head[:8] == b"\x89PNG\r\n\x1a\n" or head[:3] == b"\xff\xd8\xff":
        from PIL import Image
        im = Image.open(path)
        if im.format == "JPEG":
            im.draft("L", im.size)   # libjpeg's own grey output, as px-jpeg.c asks for
            if im.mode != "L":
                im = im.convert("L")
            px = np.asarray(im, dtype=np.float32)
        elif im.mode in ("I;16", "I;16B", "I", "L"):
            px = np.asarray(im).astype(np.float32)
        elif im.mode == "LA":
            px = np.asarray(im.getchannel(0), dtype=np.float32)
        else:
            rgb = np.asarray(im.convert("RGB"), dtype=np.float32)
            same = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
            luma = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
            px = np.where(same, rgb[..., 0], luma).astype(np.float32)
        return _window(px)
    dicm = head[128:132] == b"DICM"
    if not dicm and not path.lower().endswith((".dcm", ".dicom")) and "." in os.path.basename(path):
        raise ValueError("not a PNG, JPEG or DICOM file")
    import pydicom
    try:
        ds = pydicom.dcmread(path, force=not dicm)  # files without the preamble, as DCMTK reads them
        px = ds.pixel_array.astype(np.float32)
    except Exception as e:  # pydicom raises many types; the message names the cause
        raise ValueError(f"not a readable DICOM image ({e})") from None
    if px.ndim != 2:
        raise ValueError(f"DICOM pixel data of shape {px.shape}, not one grey frame")
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    px = px * slope + float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    c = _first(ds.WindowCenter) if "WindowCenter" in ds else None
    w = _first(ds.WindowWidth) if "WindowWidth" in ds else None
    if c is not None and not (math.isfinite(c) and w is not None and math.isfinite(w)):
        c = w = None
    v = _window(px, c, w)
    if str(getattr(ds, "PhotometricInterpretation", "")) == "MONOCHROME1":
        v = 1.0 - v
    return v


@functools.lru_cache(maxsize=64)
def _resample_matrix(n_in, n_out):
    """[n_out, n_in] weights of preprocess.c's taps(): triangle kernel widened by the
    downscale factor, centred on (i + ½)·n_in/n_out, normalised to sum 1."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    max_taps = 2 * (n_in // n_out + 2) + 2
    for i in range(n_out):
        c = (i + 0.5) * scale
        lo, hi = max(int(math.floor(c - support)), 0), min(int(math.ceil(c + support)), n_in)
        hi = min(hi, lo + max_taps)
        j = np.arange(lo, hi)
        w = np.maximum(0.0, 1.0 - np.abs((j + 0.5 - c) / support)).astype(np.float32)
        s = float(w.astype(np.float64).sum())
        m[i, lo:hi] = w / s if s > 0 else 0.0
    return m.astype(np.float32).astype(np.float64)


def squeeze(grey, side):
    """The whole image to side × side (peac_preprocess without crop), grey in [0, 1]."""
    h, w = grey.shape
    mx, my = _resample_matrix(w, side), _resample_matrix(h, side)
    tmp = (grey.astype(np.float64) @ mx.T).astype(np.float32)
    return (my @ tmp.astype(np.float64)).astype(np.float32)


def packed_side(path):
    """The side a packed image was squeezed to, or None for any other file."""
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return None
    from PIL import Image
    v = Image.open(path).info.get(PACKED_KEY)
    return int(v) if v is not None else None


def load_grey(path, side):
    packed = packed_side(path)
    if packed is None:
        return squeeze(decode_unit(path), side)
    from PIL import Image
    im = Image.open(path)
    if packed != side or im.size != (side, side) or im.mode != "L":
        raise ValueError(f"packed for a {packed}-px side ({im.size[0]}x{im.size[1]} {im.mode}), "
                         f"the run needs {side} px: pack the data again")
    return np.asarray(im, dtype=np.float32) / np.float32(255.0)


# ---------------------------------------------------------------------------------------
# Views (views.c) and distortions (distort.c)

def sample_views(rng, h, w, G, cell, max_shift):
    cells_h, cells_w = h // cell, w // cell
    oy = int(rng.integers(0, h - cells_h * cell + 1))
    ox = int(rng.integers(0, w - cells_w * cell + 1))
    dr0 = int(rng.integers(0, cells_h - G + 1))
    dc0 = int(rng.integers(0, cells_w - G + 1))
    while True:
        r = dr0 + int(rng.integers(0, 2 * max_shift + 1)) - max_shift
        c = dc0 + int(rng.integers(0, 2 * max_shift + 1)) - max_shift
        if r >= 0 and c >= 0 and r + G <= cells_h and c + G <= cells_w:
            return oy, ox, (dr0, r), (dc0, c)


def pairs(G, dr, dc):
    """Crop-1 cell (r, c) ↔ crop-2 cell (r + dr1 − dr2, c + dc1 − dc2) inside the grid."""
    r, c = np.divmod(np.arange(G * G), G)
    r2, c2 = r + dr[0] - dr[1], c + dc[0] - dc[1]
    ok = (r2 >= 0) & (r2 < G) & (c2 >= 0) & (c2 < G)
    return np.where(ok, r2 * G + c2, -1)


def shuffle_cells(img, perm, G, cell):
    """out cell i = in cell perm[i]."""
    cells = img.reshape(G, cell, G, cell).transpose(0, 2, 1, 3).reshape(G * G, cell, cell)
    return cells[perm].reshape(G, G, cell, cell).transpose(0, 2, 1, 3).reshape(G * cell, G * cell)


def _rnd(rng, n):
    return int(rng.integers(0, n)) if n > 0 else 0


def local_shuffle(img, windows, max_side, rng):
    S = img.shape[0]
    max_side = min(max_side, 64)
    for _ in range(windows):
        h, w = min(1 + _rnd(rng, max_side), S), min(1 + _rnd(rng, max_side), S)
        y0, x0 = _rnd(rng, S - h + 1), _rnd(rng, S - w + 1)
        blk = img[y0:y0 + h, x0:x0 + w].reshape(-1)
        img[y0:y0 + h, x0:x0 + w] = blk[rng.permutation(h * w)].reshape(h, w)


def bezier(img, p1, p2, invert):
    t = np.arange(1000, dtype=np.float32) / 999.0
    u = 1.0 - t
    b1, b2, b3 = 3 * u * u * t, 3 * u * t * t, t * t * t
    x = b1 * p1[0] + b2 * p2[0] + b3
    y = b1 * p1[1] + b2 * p2[1] + b3
    o = np.argsort(x, kind="stable")
    v = 1.0 - img if invert else img
    img[...] = np.interp(v, x[o], y[o]).astype(np.float32)


def _keep_window(img, lo, hi, rng):
    S = img.shape[0]
    hi = min(hi, S - 5)
    lo = min(lo, hi)
    h, w = lo + _rnd(rng, hi - lo + 1), lo + _rnd(rng, hi - lo + 1)
    y0, x0 = 3 + _rnd(rng, S - h - 5), 3 + _rnd(rng, S - w - 5)
    keep = img[y0:y0 + h, x0:x0 + w].copy()
    img[...] = rng.random(img.shape, dtype=np.float32)
    img[y0:y0 + h, x0:x0 + w] = keep


def inpaint(img, rng):
    S = img.shape[0]
    lo = max(S // 8, 1)
    hi = max(S // 3, lo)
    for _ in range(1 + _rnd(rng, 5)):
        h, w = lo + _rnd(rng, hi - lo + 1), lo + _rnd(rng, hi - lo + 1)
        y0, x0 = 3 + _rnd(rng, S - h - 5), 3 + _rnd(rng, S - w - 5)
        img[y0:y0 + h, x0:x0 + w] = rng.random((h, w), dtype=np.float32)


def _ref_px(px, S):
    return max(int(math.floor(px * S / 224.0 + 0.5)), 1)


def inpaint_grey(img, rng):
    S = img.shape[0]
    hi = min(_ref_px(70, S), S)
    lo = min(_ref_px(30, S), hi)
    for _ in range(1 + _rnd(rng, 4)):
        h, w = lo + _rnd(rng, hi - lo + 1), lo + _rnd(rng, hi - lo + 1)
        y0, x0 = _rnd(rng, S - h + 1), _rnd(rng, S - w + 1)
        img[y0:y0 + h, x0:x0 + w] = np.float32(rng.random())


def distort(img, d, rng):
    """peac_distort_apply in place on a grey crop [S, S]; returns the bit mask of what was
    applied (1 shuffle, 2 Bézier, 4 in-painting, 8 out-painting, 16 gamma, 32 inversion)."""
    S, done = img.shape[0], 0
    if d["style"] == "reference":
        if d["gamma_sigma"] > 0:
            g = math.exp(d["gamma_sigma"] * rng.standard_normal())
            img[...] = np.where(img > 0, np.power(np.maximum(img, 0), g), 0).astype(np.float32)
            done |= 16
        if rng.random() < d["p_invert"]:
            img[...] = 1.0 - img
            done |= 32
        if S >= 16 and rng.random() < d["p_paint"]:
            if rng.random() < d["p_inpaint"]:
                inpaint_grey(img, rng)
                done |= 4
            else:
                _keep_window(img, _ref_px(80, S), _ref_px(160, S), rng)
                done |= 8
        return done
    if rng.random() < d["p_shuffle"]:
        local_shuffle(img, d["shuffle_windows"], d["shuffle_max"], rng)
        done |= 1
    if rng.random() < d["p_bezier"]:
        p1, p2 = rng.random(2), rng.random(2)
        bezier(img, p1, p2, rng.random() < 0.5)
        done |= 2
    if S >= 16 and rng.random() < d["p_paint"]:
        if rng.random() < d["p_inpaint"]:
            inpaint(img, rng)
            done |= 4
        else:
            _keep_window(img, 3 * S // 7, 4 * S // 7, rng)
            done |= 8
    return done


def make_sample(grey, G, cell, obj, rng):
    """peac_batch_fill for one sample: (x1, x1s, x2 [3, S, S] normalised, shuffled, perm,
    pair, where [2, G², 2]: the centre (y, x) of the cell each student token of crop 1 (as
    shuffled) and crop 2 shows, in the whole image, scaled to [-1, 1])."""
    h, w = grey.shape
    oy, ox, dr, dc = sample_views(rng, h, w, G, cell, obj["max_shift"])
    S = G * cell

    def cut(k):
        y0, x0 = oy + dr[k] * cell, ox + dc[k] * cell
        return grey[y0:y0 + S, x0:x0 + S].copy()

    c1, c2 = cut(0), cut(1)
    pair = pairs(G, dr, dc)
    shuffled = rng.random() < obj["p_shuffle"]
    if shuffled:
        perm = rng.permutation(G * G)
        c1s = shuffle_cells(c1, perm, G, cell)
    else:
        perm = np.arange(G * G)
        c1s = c1.copy()
        distort(c1s, obj["distort"], rng)

    def norm(g):
        x = (g - np.float32(PEAC_MEAN)) / np.float32(PEAC_STD)
        return np.broadcast_to(x, (3, S, S)).copy()

    where = np.empty((2, G * G, 2), np.float32)
    for k, q in ((0, np.asarray(perm)), (1, np.arange(G * G))):
        where[k, :, 0] = 2.0 * (oy + (dr[k] + q // G + 0.5) * cell) / h - 1.0
        where[k, :, 1] = 2.0 * (ox + (dc[k] + q % G + 0.5) * cell) / w - 1.0
    return norm(c1), norm(c1s), norm(c2), int(shuffled), perm, pair, where
