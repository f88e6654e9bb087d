#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# bad-input-table: regenerates docs/bad-input.md by actually running the built `peac` on
# malformed inputs made here in a temporary folder (images, DICOMs, checkpoints, .npy
# matrices, command-line arguments, outputs that cannot be written) and recording the
# first line it prints on stderr and its exit status. Needs Pillow (for the JPEG inputs)
# and the shared data folder for the J2K DICOM and a real DICOM to truncate.
#
#   /usr/bin/python3 tools/bad-input-table.py BUILD/src/cli/peac [../shared] > docs/bad-input.md
import json
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
peac = os.path.abspath(sys.argv[1])
shared = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, '..', 'shared'))
tmp = tempfile.mkdtemp(prefix='peac-bad-input-')
sample = os.path.join(here, 'data', 'samples', 'nih-00000001_000.png')
rows = []


def path(name):
    return os.path.join(tmp, name)


def write(name, data):
    with open(path(name), 'wb') as f:
        f.write(data)
    return path(name)


def run(group, what, args, fsize=None, extra_env=None):
    def limit():
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    env = dict(os.environ, OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1', **(extra_env or {}))
    p = subprocess.run([peac] + args, capture_output=True, text=True, preexec_fn=limit,
                       env=env, timeout=120)
    lines = [l for l in p.stderr.splitlines()
             if l.strip() and 'ignoring tensors the backbone does not use' not in l]
    msg = lines[0] if lines else '(nothing on stderr)'
    if p.returncode < 0:
        msg = 'killed by signal %d' % -p.returncode
    short = lambda t: (t.replace(tmp + '/', '').replace(tmp, 'TMPDIR')
                       .replace(shared + '/', '../shared/').replace(os.path.join(here, ''), ''))
    msg = short(msg)
    cmd = ' '.join(['%s=%s' % (k, short(v)) for k, v in (extra_env or {}).items()]
                   + ['peac'] + [short(a) for a in args])
    rows.append((group, what, cmd, msg, p.returncode))


def png_chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))


def png(w, h, body=None):
    sig = b'\x89PNG\r\n\x1a\n'
    ihdr = png_chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
    if body is None:
        body = zlib.compress(b''.join(b'\0' + bytes(w) for _ in range(h)))
    return sig + ihdr + png_chunk(b'IDAT', body) + png_chunk(b'IEND', b'')


def dicom(rows_, cols, declared, present):
    out = b''

    def el(g, e, vr, v):
        return struct.pack('<HH2sH', g, e, vr, len(v)) + v
    out += el(0x0008, 0x0060, b'CS', b'CR')
    out += el(0x0028, 0x0002, b'US', struct.pack('<H', 1))
    out += el(0x0028, 0x0004, b'CS', b'MONOCHROME2 ')
    out += el(0x0028, 0x0010, b'US', struct.pack('<H', rows_))
    out += el(0x0028, 0x0011, b'US', struct.pack('<H', cols))
    for tag in (0x0100, 0x0101):
        out += el(0x0028, tag, b'US', struct.pack('<H', 16))
    out += el(0x0028, 0x0102, b'US', struct.pack('<H', 15))
    out += el(0x0028, 0x0103, b'US', struct.pack('<H', 0))
    out += struct.pack('<HH2sHI', 0x7fe0, 0x0010, b'OW', 0, declared) + b'\1' * present
    return out


def safetensors(header, data=b''):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    h += b' ' * (-len(h) % 8)
    return struct.pack('<Q', len(h)) + h + data


def main():
    rng = random.Random(1)
    good_png = open(sample, 'rb').read()

    # Images, through `peac info` (the app's loader is the same px_image_load).
    info = lambda what, f: run('image', what, ['info', f])
    info('empty file', write('empty.png', b''))
    info('random bytes', write('random.png', bytes(rng.randrange(256) for _ in range(4096))))
    info('PNG truncated to half', write('half.png', good_png[:len(good_png) // 2]))
    bad = bytearray(good_png)
    for i in range(2000, 2400):
        bad[i] ^= 0x5a
    info('PNG with corrupt compressed data', write('corrupt.png', bytes(bad)))
    info('PNG declaring 100000×100000', write('huge.png', png(100000, 100000, b'')[:33]))
    info('PNG with a bad IHDR CRC', write('crc.png', good_png[:29] + b'\0\0\0\0' + good_png[33:]))
    info('PNG, 0×0', write('zero.png', png(0, 0, b'')))
    try:
        from PIL import Image
        import io
        b = io.BytesIO()
        Image.open(sample).save(b, 'JPEG', quality=90)
        jpg = b.getvalue()
        info('JPEG truncated to half', write('half.jpg', jpg[:len(jpg) // 2]))
        sof = jpg.index(b'\xff\xc0')
        huge = jpg[:sof + 5] + struct.pack('>HH', 60000, 60000) + jpg[sof + 9:]
        info('JPEG declaring 60000×60000', write('huge.jpg', huge))
        info('JPEG, only the SOI marker', write('soi.jpg', b'\xff\xd8\xff'))
        b = io.BytesIO()
        Image.open(sample).convert('CMYK').save(b, 'JPEG')
        info('CMYK JPEG', write('cmyk.jpg', b.getvalue()))
    except ImportError:
        print('bad-input-table: no Pillow, JPEG rows left out', file=sys.stderr)
    real = os.path.join(shared, 'data', 'dicom', 'chest', 'gdcm-CR-MONO1-10-chest.dcm')
    if os.path.exists(real):
        d = open(real, 'rb').read()
        info('DICOM truncated to half', write('half.dcm', d[:len(d) // 2]))
        info('DICOM, preamble and DICM only', write('pre.dcm', d[:132]))
    info('DICOM declaring 512 MiB of pixel data, 100 bytes present',
         write('short.dcm', dicom(16384, 16384, 16384 * 16384 * 2, 100)))
    info('DICOM pixel data shorter than Rows×Columns', write('few.dcm', dicom(512, 512, 64, 64)))
    info('DICOM 65535×65535', write('huge.dcm', dicom(65535, 65535, 64, 64)))
    info('DICOM without pixel data', write('nopix.dcm', dicom(64, 64, 0, 0)[:-12]))
    j2k = os.path.join(shared, 'data', 'dicom', 'non-chest-format-coverage', 'WG04_RG3_J2KI.dcm')
    if os.path.exists(j2k):
        # The pixel sequence rewritten as one fragment holding a changed codestream.
        d = open(j2k, 'rb').read()
        tag = b'\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff'
        start = d.rindex(tag) + len(tag)
        p, frags = start, []
        while d[p:p + 4] != b'\xfe\xff\xdd\xe0':
            n = struct.unpack('<I', d[p + 4:p + 8])[0]
            frags.append(d[p + 8:p + 8 + n])
            p += 8 + n
        cs = b''.join(frags[1:])

        def j2k_variant(name, c):
            c += b'\0' * (len(c) & 1)
            item = lambda x: b'\xfe\xff\x00\xe0' + struct.pack('<I', len(x)) + x
            return write(name, d[:start] + item(b'') + item(c) + d[p:])
        info('JPEG 2000 DICOM, codestream cut in half', j2k_variant('j2k-half.dcm', cs[:len(cs) // 2]))
        info('JPEG 2000 DICOM, codestream 256 columns wider than the header',
             j2k_variant('j2k-siz.dcm', cs[:10] + bytes([cs[10] ^ 1]) + cs[11:]))
        info('JPEG 2000 DICOM, fragment not a codestream', j2k_variant('j2k-soc.dcm', b'\0' + cs[1:]))
    os.mkdir(path('folder.png'))
    info('a directory', path('folder.png'))
    info('missing file', path('missing.png'))

    # Checkpoints, through `peac embed --model`.
    good = path('good.safetensors')
    p = subprocess.run([peac, 'train', '--config', '{"img_size":32,"patch_size":8,'
                        '"embed_dim":32,"depth":2,"num_heads":2}', '--steps', '1', '--batch',
                        '1', '--threads', '1', '--quiet', '--out', good, sample],
                       capture_output=True)
    assert p.returncode == 0, p.stderr
    gb = open(good, 'rb').read()
    embed = lambda what, f: run('checkpoint', what, ['embed', '--model', f, sample, '-o',
                                                     path('out.safetensors')])
    embed('empty file', write('empty.safetensors', b''))
    embed('truncated to half', write('half.safetensors', gb[:len(gb) // 2]))
    embed('header length past the end', write('hlen.safetensors', struct.pack('<Q', 1 << 20) + b'{}'))
    embed('header length 2^63', write('hbig.safetensors', struct.pack('<Q', 1 << 63) + b'{}'))
    embed('header not JSON', write('json.safetensors', safetensors(b'{"a": [1, 2')))
    embed('header a JSON array', write('array.safetensors', safetensors([1, 2])))
    embed('tensor past the end of the file', write('past.safetensors', safetensors(
        {'w': {'dtype': 'F32', 'shape': [1 << 30], 'data_offsets': [0, 1 << 32]}}, bytes(16))))
    embed('overlapping tensors', write('overlap.safetensors', safetensors(
        {'a': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]},
         'b': {'dtype': 'F32', 'shape': [4], 'data_offsets': [8, 24]}}, bytes(24))))
    embed('bytes ≠ shape × dtype', write('size.safetensors', safetensors(
        {'a': {'dtype': 'F32', 'shape': [5], 'data_offsets': [0, 16]}}, bytes(16))))
    embed('unknown dtype', write('dtype.safetensors', safetensors(
        {'a': {'dtype': 'F17', 'shape': [4], 'data_offsets': [0, 16]}}, bytes(16))))
    embed('negative dimension', write('neg.safetensors', safetensors(
        {'a': {'dtype': 'F32', 'shape': [-4], 'data_offsets': [0, 16]}}, bytes(16))))
    embed('no peac.arch metadata (not a model)', write('noarch.safetensors', safetensors(
        {'a': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]}}, bytes(16))))
    embed('config declaring 2 billion parameters, 16 bytes of tensors',
          write('bigcfg.safetensors', safetensors(
              {'__metadata__': {'peac.arch': 'vit', 'peac.config': json.dumps(
                  {'img_size': 224, 'patch_size': 16, 'embed_dim': 2048, 'depth': 40,
                   'num_heads': 1})},
               'w': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]}}, bytes(16))))
    hl = struct.unpack('<Q', gb[:8])[0]
    hdr = json.loads(gb[8:8 + hl])
    hdr['__metadata__']['peac.config'] = '{"img_size":32,"patch_size":8,"embed_dim":48,"depth":2,"num_heads":2}'
    embed('config disagrees with the tensors', write('cfg.safetensors', safetensors(hdr) + gb[8 + hl:]))
    del hdr['teacher.cls_token']
    hdr['__metadata__']['peac.config'] = '{"img_size":32,"patch_size":8,"embed_dim":32,"depth":2,"num_heads":2}'
    embed('a tensor missing', write('miss.safetensors', safetensors(hdr) + gb[8 + hl:]))

    # The training state of a checkpoint, through `peac train --resume`.
    hdr = json.loads(gb[8:8 + hl])
    state = json.loads(hdr['__metadata__']['peac.train'])
    state['step'] = -5
    hdr['__metadata__']['peac.train'] = json.dumps(state)
    run('checkpoint', 'training state with a negative step',
        ['train', '--resume', write('step.safetensors', safetensors(hdr) + gb[8 + hl:]), '--quiet'])
    del hdr['__metadata__']['peac.train']
    run('checkpoint', 'a model file, not a training checkpoint',
        ['train', '--resume', write('model.safetensors', safetensors(hdr) + gb[8 + hl:]), '--quiet'])

    # .npy matrices, through `peac tsne --matrix`.
    tsne = lambda what, f: run('npy', what, ['tsne', '--matrix', f, '-o', path('xy.csv')])
    npy_head = lambda d: b'\x93NUMPY\x01\x00' + struct.pack('<H', len(d)) + d
    tsne('bad magic', write('magic.npy', b'NOTNUMPY' + bytes(64)))
    tsne('truncated data', write('short.npy', npy_head(
        b"{'descr': '<f4', 'fortran_order': False, 'shape': (100, 8), }      \n") + bytes(40)))
    tsne('int64 dtype', write('int.npy', npy_head(
        b"{'descr': '<i8', 'fortran_order': False, 'shape': (4, 2), }        \n") + bytes(64)))
    tsne('header not a dict', write('hdr.npy', npy_head(b'garbage\n') + bytes(8)))
    tsne('shape 10^12 rows', write('big.npy', npy_head(
        b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 8), }\n") + bytes(32)))

    # CSV matrices, through `peac tsne --matrix`.
    csv = lambda what, f: run('csv', what, ['tsne', '--matrix', f, '-o', path('xy.csv')])
    csv('a row with fewer fields', write('ragged.csv', b'a,b\n1,2\n3\n'))
    csv('a word among the numbers', write('word.csv', b'1,2\n3,x\n'))
    csv('a number beyond float range', write('huge.csv', b'1,2\n3,1e39\n'))
    csv('only a header', write('header.csv', b'label,a,b\n'))

    # Command lines.
    run('arguments', 'unknown command', ['frobnicate'])
    run('arguments', 'unknown option', ['train', '--out', path('x.safetensors'), '--frob', sample])
    run('arguments', 'option without its value', ['train', '--out'])
    run('arguments', 'non-numeric --steps', ['train', '--steps', 'many', '--out', path('x.safetensors'), sample])
    # Without --model the bundled model is used; a PEAC_MODEL naming a missing file is not.
    run('arguments', 'embed without --model, PEAC_MODEL missing',
        ['embed', sample, '-o', path('e.safetensors')],
        extra_env={'PEAC_MODEL': path('missing.safetensors')})
    run('arguments', 'train without images', ['train', '--out', path('x.safetensors')])
    run('arguments', 'convert with a window to .npy',
        ['convert', '--window', '550,1024', sample, '-o', path('x.npy')])
    run('arguments', 'convert to an unknown extension', ['convert', sample, '-o', path('x.tiff')])
    run('arguments', 'convert, two inputs with one name', ['convert', sample,
                                                           write('nih-00000001_000.png', b'x'), '-o', path('batch')])

    # Outputs.
    run('output', 'folder that does not exist', ['embed', '--model', good, sample, '-o',
                                                 path('nowhere/e.safetensors')])
    run('output', 'a directory as the output file', ['embed', '--model', good, sample, '-o', tmp])
    run('output', 'convert onto an existing file (no --force)',
        ['convert', sample, '-o', write('mine.png', b'the user\'s work')])
    run('output', 'convert into a folder that does not exist',
        ['convert', sample, '-o', path('nowhere/x.png')])
    run('output', 'disk full (RLIMIT_FSIZE 4 KiB) during a convert',
        ['convert', sample, '-o', path('full.pgm')], fsize=4096)
    run('output', 'disk full (RLIMIT_FSIZE 4 KiB) during a checkpoint save',
        ['train', '--config', '{"img_size":32,"patch_size":8,"embed_dim":32,"depth":2,'
         '"num_heads":2}', '--steps', '3', '--batch', '1', '--threads', '1', '--quiet',
         '--out', path('full.safetensors'), sample], fsize=4096)

    print('# Bad input: what peac answers\n')
    print('Every row was produced by running the built `peac` on the input described (made by')
    print('`tools/bad-input-table.py`, which regenerates this file:')
    print('`/usr/bin/python3 tools/bad-input-table.py BUILD/src/cli/peac > docs/bad-input.md`).')
    print('The message is the first line on stderr; file names are relative to the temporary')
    print('folder the script works in (TMPDIR). The landmark JSON reader is reached from the')
    print("app only; it and every other parser are fuzzed (fuzz/, replayed in the 'fuzz' suite).")
    print('Exit status 0 means success, 1 a file that could not')
    print('be read or written, 2 a bad command line. No input crashed or hung the program;')
    print('the same loaders run in the app, which shows the same message. Images are limited')
    print('to 32768 pixels per side and 16384² pixels in all (`PX_IMAGE_MAX_SIDE`,')
    print('`PX_IMAGE_MAX_PIXELS` in src/io/px-image.h), files to 3 GiB, safetensors headers to')
    print('100 MiB; a declared size beyond what the file holds is refused before allocating')
    print('(tests/crash/test-limits.c checks it under an address-space cap).')
    print('DICOM pixel data in every transfer syntax is read, JPEG 2000 (.90, .91) through')
    print('OpenJPEG in strict mode, so a truncated codestream is refused rather than decoded in')
    print('part; tests/io/test-dicom-j2k.c checks more truncations and marker corruptions. Bytes')
    print('changed inside compressed data, away from the markers, decode to a different image')
    print('without an error in JPEG 2000 as in JPEG and RLE: these codecs carry no checksum.\n')
    print('| input | kind of bad input | command | message | exit |')
    print('|---|---|---|---|---|')
    for g, what, cmd, msg, rc in rows:
        print('| %s | %s | `%s` | %s | %d |' % (g, what, cmd.replace('|', '\\|'),
                                              msg.replace('|', '\\|'), rc))
    shutil.rmtree(tmp)


main()
