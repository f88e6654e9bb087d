#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# make-j2k-seeds: writes fuzz/corpus/dicom-j2k/, the seeds of the JPEG 2000 harness (two
# control bytes, then a codestream; see fuzz-dicom-j2k.c). The codestreams come from GDCM's
# encoder (`gdcmconv --j2k`, lossless and `--lossy -q Q`) run on the DICOM seeds of
# fuzz/corpus/dicom/ (NIH pixels at 16×12: 8- and 16-bit, signed, MONOCHROME1, colour), one
# per distinct pixel description, each also wrapped in a JP2 file, with a few control-byte
# variants. Run from the source root: /usr/bin/python3 fuzz/make-j2k-seeds.py
import hashlib
import os
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, 'corpus', 'dicom')
OUT = os.path.join(HERE, 'corpus', 'dicom-j2k')
TAG = b'\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff'


def codestream(path):
    d = open(path, 'rb').read()
    p = d.rindex(TAG) + len(TAG)
    frags = []
    while d[p:p + 4] != b'\xfe\xff\xdd\xe0':
        n = struct.unpack('<I', d[p + 4:p + 8])[0]
        frags.append(d[p + 8:p + 8 + n])
        p += 8 + n
    return b''.join(frags[1:])


def jp2(cs):
    w = struct.unpack('>I', cs[8:12])[0] - struct.unpack('>I', cs[16:20])[0]
    h = struct.unpack('>I', cs[12:16])[0] - struct.unpack('>I', cs[20:24])[0]
    nc = struct.unpack('>H', cs[40:42])[0]
    box = lambda kind, body: struct.pack('>I', 8 + len(body)) + kind + body
    ihdr = box(b'ihdr', struct.pack('>IIHBBBB', h, w, nc, cs[42], 7, 0, 0))
    colr = box(b'colr', bytes([1, 0, 0]) + struct.pack('>I', 16 if nc == 3 else 17))
    return (box(b'jP  ', b'\r\n\x87\n') + box(b'ftyp', b'jp2 \0\0\0\0jp2 ')
            + box(b'jp2h', ihdr + colr) + box(b'jp2c', cs))


def main():
    os.makedirs(OUT, exist_ok=True)
    seen, seeds = set(), []
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(SRC)):
            for lossy in (False, True):
                out = os.path.join(tmp, 'x.dcm')
                args = ['gdcmconv', '--j2k'] + (['--lossy', '-q', '30'] if lossy else [])
                r = subprocess.run(args + [os.path.join(SRC, name), out],
                                   capture_output=True)
                if r.returncode != 0 or not os.path.exists(out):
                    continue
                try:
                    cs = codestream(out)
                except (ValueError, struct.error):
                    continue
                os.remove(out)
                if len(cs) < 43 or cs[:4] != b'\xff\x4f\xff\x51':
                    continue
                kind = (cs[40:43], lossy)  # components, precision and sign, lossy
                if kind in seen:
                    continue
                seen.add(kind)
                ctl = 1 if lossy else 0
                seeds += [bytes([ctl, 0]) + cs, bytes([ctl | 0x08, 128]) + cs,
                          bytes([ctl | 0x02, 0]) + jp2(cs)]
                if cs[40:42] == b'\x00\x03':
                    seeds.append(bytes([ctl | 0x04, 0]) + cs)  # YBR_RCT
    for s in seeds:
        with open(os.path.join(OUT, hashlib.sha1(s).hexdigest()), 'wb') as f:
            f.write(s)
    print('%d seeds from %d kinds of codestream' % (len(seeds), len(seen)))


main()
