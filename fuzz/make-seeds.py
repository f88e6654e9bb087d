#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# make-seeds: writes the hand-made seed inputs of fuzz/corpus/ (small valid files of each
# format plus malformed variants: truncations, bad lengths, wrong types, overflowing
# sizes). Run from the source root: /usr/bin/python3 fuzz/make-seeds.py. Image seeds
# copied from shared/data (NIH/Hannover only) are made by fuzz/README.md's commands.
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')


def put(harness, name, data):
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# -- safetensors ------------------------------------------------------------------------
def st(header, payload=b'', hlen=None):
    h = json.dumps(header, separators=(',', ':')).encode() if not isinstance(header, bytes) else header
    return struct.pack('<Q', len(h) if hlen is None else hlen) + h + payload


f32 = struct.pack('<4f', 1, -2, 3.5, 0)
w6 = struct.pack('<6f', *range(6))
put('safetensors', 'valid-f32', st({'a': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]},
                                     'blocks.0.w': {'dtype': 'F32', 'shape': [2, 3], 'data_offsets': [16, 40]},
                                     '__metadata__': {'peac.arch': 'vit', 'format': 'pt'}}, f32 + w6))
put('safetensors', 'valid-mixed', st({
    'module.teacher.a': {'dtype': 'F16', 'shape': [4], 'data_offsets': [0, 8]},
    'student.a': {'dtype': 'BF16', 'shape': [4], 'data_offsets': [8, 16]},
    'backbone.blocks.0.w': {'dtype': 'F64', 'shape': [2, 3], 'data_offsets': [16, 64]},
    'n': {'dtype': 'I64', 'shape': [], 'data_offsets': [64, 72]},
    'e': {'dtype': 'U8', 'shape': [0, 5], 'data_offsets': [72, 72]}},
    struct.pack('<4H', 0x3c00, 0x0001, 0x7c00, 0xfe00) + struct.pack('<4H', 0x3f80, 0, 0x7f81, 0x8000)
    + struct.pack('<6d', 1e300, -1e-300, 0, 1, 2, 3) + struct.pack('<q', 7)))
put('safetensors', 'empty-header', st({}))
put('safetensors', 'short', b'\x10\x00\x00')
put('safetensors', 'hlen-huge', st({}, hlen=0xffffffffffffffff))
put('safetensors', 'hlen-past-end', st({'a': {}}, hlen=4096))
put('safetensors', 'not-object', st([1, 2, 3]))
put('safetensors', 'bad-json', st(b'{"a": {"dtype": "F32", '))
put('safetensors', 'overlap', st({'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]},
                                  'b': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4, 12]}}, bytes(12)))
put('safetensors', 'offsets-past-end', st({'a': {'dtype': 'F32', 'shape': [1000000], 'data_offsets': [0, 4000000]}}, bytes(16)))
put('safetensors', 'shape-overflow', st({'a': {'dtype': 'F64', 'shape': [4294967296, 4294967296, 16], 'data_offsets': [0, 0]}}))
put('safetensors', 'bad-dtype', st({'a': {'dtype': 'Q7', 'shape': [1], 'data_offsets': [0, 1]}}, b'x'))
put('safetensors', 'neg-dim', st({'a': {'dtype': 'F32', 'shape': [-1], 'data_offsets': [0, 4]}}, bytes(4)))
put('safetensors', 'meta-not-string', st({'__metadata__': {'k': 3}}))
put('safetensors', 'too-many-dims', st({'a': {'dtype': 'U8', 'shape': [1] * 9, 'data_offsets': [0, 1]}}, b'x'))

# -- npy --------------------------------------------------------------------------------
def npy(hdr, payload=b'', version=(1, 0), pad=True):
    h = hdr.encode()
    lenfmt = '<H' if version[0] == 1 else '<I'
    pre = 10 if version[0] == 1 else 12
    if pad:
        total = pre + len(h) + 1
        h += b' ' * ((64 - total % 64) % 64) + b'\n'
    return b'\x93NUMPY' + bytes(version) + struct.pack(lenfmt, len(h)) + h + payload


put('npy', 'f32-3x2', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", struct.pack('<6f', *range(6))))
put('npy', 'f64-2x2-v2', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", struct.pack('<4d', 1, 2, 3, 4), (2, 0)))
put('npy', 'f32-1d-v3', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", struct.pack('<4f', 1, 2, 3, 4), (3, 0)))
put('npy', 'empty-0x2', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }"))
put('npy', 'fortran', npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", bytes(16)))
put('npy', 'big-endian', npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1), }", bytes(4)))
put('npy', 'int', npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", bytes(8)))
put('npy', 'short-payload', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100, 100), }", bytes(8)))
put('npy', 'shape-overflow', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"))
put('npy', 'bad-magic', b'\x93NUMPZ\x01\x00\x10\x00' + b' ' * 16)
put('npy', 'hlen-past-end', b'\x93NUMPY\x01\x00\xff\xff{')
put('npy', 'unterminated', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, ", pad=False))
put('npy', 'order-swapped', npy("{'shape': (1, 2), 'fortran_order': False, 'descr': '<f4', }", bytes(8)))

# -- landmark JSON ----------------------------------------------------------------------
good = {'format': 'peac-landmarks', 'version': 1,
        'image': {'path': 'x.png', 'width': 2048, 'height': 2048},
        'landmarks': [{'name': 'carina', 'x': 1010.5, 'y': 655.25, 'color': '#e01b24',
                       'structure': 'RL', 'index': 3},
                      {'name': 'apex', 'x': -0.5, 'y': 1e3}]}
put('landmarks', 'json-valid', json.dumps(good))
put('landmarks', 'json-empty-list', '{"format":"peac-landmarks","version":1,"landmarks":[]}')
put('landmarks', 'json-newer-version', '{"format":"peac-landmarks","version":2,"landmarks":[]}')
put('landmarks', 'json-dup-name', '{"format":"peac-landmarks","version":1,"landmarks":[{"name":"a","x":1,"y":2},{"name":"a","x":1,"y":2}]}')
put('landmarks', 'json-bad-color', '{"format":"peac-landmarks","version":1,"landmarks":[{"name":"a","x":1,"y":2,"color":"#12345g"}]}')
put('landmarks', 'json-neg-index', '{"format":"peac-landmarks","version":1,"landmarks":[{"name":"a","x":1,"y":2,"index":-4}]}')
put('landmarks', 'json-width-only', '{"format":"peac-landmarks","version":1,"image":{"width":5},"landmarks":[]}')
put('landmarks', 'json-truncated', json.dumps(good)[:70])
put('landmarks', 'json-nul-in-name', '{"format":"peac-landmarks","version":1,"landmarks":[{"name":"a\\u0000b","x":1,"y":2}]}')
put('landmarks', 'json-not-object', '[1, 2]')

# -- landmark CSV -----------------------------------------------------------------------
put('landmarks', 'csv-valid', 'x,y\n10.5,20\n-0.5,1e3\n')
put('landmarks', 'csv-no-header', '1,2\n3,4\n')
put('landmarks', 'csv-bad-number', 'x,y\n1,abc\n')
put('landmarks', 'csv-three-fields', 'x,y\n1,2,3\n')
put('landmarks', 'csv-crlf-nan', 'x,y\r\n1,2\r\nnan,inf\r\n')

# -- model configurations (peac.config metadata) ----------------------------------------
put('model-config', 'vit-tiny', '{"img_size": 224, "patch_size": 16, "in_chans": 3, "embed_dim": 192, "depth": 12, "num_heads": 3, "mlp_ratio": 4.0, "qkv_bias": true, "gelu": "erf"}')
put('model-config', 'vit-pairs', '{"img_size": [224, 224], "patch_size": [16, 16], "global_pool": "token", "class_token": true, "reg_tokens": 0}')
# vit-mlp-ratio-1e300 and swin-embed-dim-2pow30 are in fuzz/findings/model-config/ (open findings).
put('model-config', 'swin-tiny', '{"img_size": 224, "patch_size": 4, "embed_dim": 96, "window_size": 7, "depths": [2, 2, 6, 2], "num_heads": [3, 6, 12, 24], "mlp_ratio": 4.0, "ln_eps": 1e-5}')
put('model-config', 'not-object', '42')

# -- t-SNE CSV matrices (peac tsne --matrix) --------------------------------------------
put('csv-matrix', 'numbers', '0.5,1,-2\n3,4e-3,5\n')
put('csv-matrix', 'header-label', 'label,a,b\ncat,1,2\ndog,3,4\n# comment\n\n')
put('csv-matrix', 'text-column', '1,2,"cat"\n3,4,\'dog\'\n')
put('csv-matrix', 'header-only', 'a,b,c\n')
put('csv-matrix', 'ragged', 'a,b\n1,2\n3\n')
put('csv-matrix', 'not-finite', '1,2\nnan,inf\n')
put('csv-matrix', 'overflow', '1e39,2\n')
put('csv-matrix', 'crlf', 'class,x\r\nA,1\r\nB,2\r\n')
put('csv-matrix', 'no-numbers', 'name\nfoo\n')

# -- training state (peac.train metadata of a checkpoint) -------------------------------
state = {'seed': 1, 'batch': 8,
         'objective': {'proj_hidden': 384, 'proj_out': 192, 'local_hidden': 256, 'local_out': 128,
                       'w_order': 1.0, 'w_restore': 1.0, 'w_global': 12.20703125,
                       'w_local': 1.0, 'p_shuffle': 0.5, 'max_shift': 7, 'momentum0': 0.999,
                       'total_steps': 12500,
                       'distort': {'p_shuffle': 0.5, 'shuffle_windows': 100, 'shuffle_max': 8,
                                   'p_bezier': 0.5, 'p_paint': 0.9, 'p_inpaint': 0.2}},
         'optimiser': {'kind': 0, 'lr': 5e-4, 'min_lr': 1e-6, 'warmup_steps': 1250,
                       'total_steps': 12500, 'weight_decay': 0.05, 'beta1': 0.9,
                       'beta2': 0.999, 'eps': 1e-8, 'momentum': 0.9, 'clip_norm': 3.0},
         'step': 500, 'rng': ['1', '18446744073709551615', '3', '4']}
put('train-state', 'valid', json.dumps(state, separators=(',', ':')))
old = json.loads(json.dumps(state))
del old['objective']['local_hidden'], old['objective']['local_out']
put('train-state', 'no-local-widths', json.dumps(old))
nce = json.loads(json.dumps(state))
nce['objective']['local_temp'] = 0.1
put('train-state', 'local-temp', json.dumps(nce))
nce['objective']['local_temp'] = -1
put('train-state', 'negative-local-temp', json.dumps(nce))
for key, val, name in (('step', -1, 'negative-step'), ('batch', 1e300, 'huge-batch'),
                       ('rng', ['1', '2'], 'short-rng'), ('step', 2.5, 'fraction-step')):
    bad = json.loads(json.dumps(state))
    bad[key] = val
    put('train-state', name, json.dumps(bad))
put('train-state', 'truncated', json.dumps(state)[:120])
put('train-state', 'not-object', '[]')
