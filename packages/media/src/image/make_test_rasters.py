"""Writes PNG and TIFF test images with known pixel values, independently of the JS decoders.

Only numpy, zlib and struct are used (no PIL on the build machine): the encoders below follow
the PNG spec and TIFF 6.0 (strips, tiles, none/LZW/Deflate/PackBits, both byte orders).
For every image NAME.{png,tif} the expected samples are written to NAME.raw as little-endian
uint16 (row-major, samples interleaved), and a manifest.json lists shape and dtype.

Usage: python3 make_test_rasters.py OUTDIR
"""
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
manifest = {}


def expect(name, arr, dtype, samples):
    a = np.asarray(arr)
    (out / f"{name}.raw").write_bytes(a.astype("<u2").tobytes())
    h, w = a.shape[:2]
    manifest[name] = {"width": w, "height": h, "samples": samples, "dtype": dtype}


# ------------------------------------------------------------------ PNG
def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(path, rows_bytes, w, h, depth, ctype, extra=b""):
    raw = b"".join(b"\x00" + r for r in rows_bytes)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    Path(path).write_bytes(data)


rng = np.random.default_rng(7)
W, H = 13, 7
g16 = rng.integers(0, 65536, size=(H, W), dtype=np.uint16)
g16[0, :4] = [0, 255, 256, 65535]
png(out / "g16.png", [r.astype(">u2").tobytes() for r in g16], W, H, 16, 0,
    extra=chunk(b"tRNS", struct.pack(">H", int(g16[1, 1]))))  # tRNS must not zero that pixel
expect("g16", g16, "uint16", 1)

ga16 = rng.integers(0, 65536, size=(H, W, 2), dtype=np.uint16)
png(out / "ga16.png", [r.astype(">u2").tobytes() for r in ga16], W, H, 16, 4)
expect("ga16", ga16[:, :, 0], "uint16", 1)

rgb16 = rng.integers(0, 65536, size=(H, W, 3), dtype=np.uint16)
rgb16[0, 0] = [300, 1000, 65535]
png(out / "rgb16.png", [r.astype(">u2").tobytes() for r in rgb16], W, H, 16, 2)
expect("rgb16", rgb16, "uint16", 3)

rgba16 = rng.integers(0, 65536, size=(H, W, 4), dtype=np.uint16)
png(out / "rgba16.png", [r.astype(">u2").tobytes() for r in rgba16], W, H, 16, 6)
expect("rgba16", rgba16, "uint16", 4)

rgb8 = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
png(out / "rgb8.png", [r.tobytes() for r in rgb8], W, H, 8, 2)
expect("rgb8", rgb8, "uint8", 3)

g8 = rng.integers(0, 256, size=(H, W), dtype=np.uint8)
png(out / "g8.png", [r.tobytes() for r in g8], W, H, 8, 0)
expect("g8", g8, "uint8", 1)

pal = rng.integers(0, 256, size=(16, 3), dtype=np.uint8)
idx = rng.integers(0, 16, size=(H, W), dtype=np.uint8)
png(out / "pal8.png", [r.tobytes() for r in idx], W, H, 8, 3, extra=chunk(b"PLTE", pal.tobytes()))
expect("pal8", pal[idx], "uint8", 3)

for depth in (1, 2, 4):
    v = rng.integers(0, 1 << depth, size=(H, W), dtype=np.uint8)
    rows = [np.packbits(np.unpackbits(r[:, None], axis=1)[:, 8 - depth:].reshape(-1)).tobytes() for r in v]
    png(out / f"g{depth}bit.png", rows, W, H, depth, 0)
    expect(f"g{depth}bit", v.astype(np.uint16) * (255 // ((1 << depth) - 1)), "uint8", 1)


# ------------------------------------------------------------------ TIFF
def packbits(data):
    res = bytearray()
    i, n = 0, len(data)
    while i < n:
        j = i
        while j < n and j - i < 128 and data[j] == data[i]:
            j += 1
        if j - i >= 3:
            res += bytes([(257 - (j - i)) & 0xFF, data[i]])
            i = j
            continue
        j = i
        while j < n and j - i < 128 and not (j + 2 < n and data[j] == data[j + 1] == data[j + 2]):
            j += 1
        res += bytes([j - i - 1]) + data[i:j]
        i = j
    return bytes(res)


def lzw(data):
    """TIFF LZW: MSB-first codes, 9..12 bits, width grows when the next free code reaches 2^width."""
    acc, nacc, res = 0, 0, bytearray()

    def put(code, width):
        nonlocal acc, nacc
        acc = (acc << width) | code
        nacc += width
        while nacc >= 8:
            nacc -= 8
            res.append((acc >> nacc) & 0xFF)

    def reset():
        return {bytes([i]): i for i in range(256)}, 258, 9

    table, nxt, width = reset()
    put(256, width)
    w = b""
    for b in data:
        wc = w + bytes([b])
        if wc in table:
            w = wc
            continue
        put(table[w], width)
        table[wc] = nxt
        nxt += 1
        if nxt == 4094:
            put(256, width)
            table, nxt, width = reset()
        elif nxt >= (1 << width):
            width += 1
        w = bytes([b])
    if w:
        put(table[w], width)
        nxt += 1
        if nxt >= (1 << width) and width < 12:
            width += 1
    put(257, width)
    if nacc:
        res.append((acc << (8 - nacc)) & 0xFF)
    return bytes(res)


COMP = {"none": 1, "lzw": 5, "deflate": 8, "packbits": 32773}


def compress(kind, data):
    return {"none": lambda d: d, "lzw": lzw, "deflate": zlib.compress, "packbits": packbits}[kind](data)


def ifd_bytes(bo, entries, ifd_pos, next_ifd):
    """entries: list of (tag, type, values). Returns IFD bytes + out-of-line data placed after it."""
    size = {3: 2, 4: 4, 11: 4}
    fmt = {3: "H", 4: "I", 11: "f"}
    entries = sorted(entries)
    head = struct.pack(bo + "H", len(entries))
    data_pos = ifd_pos + 2 + 12 * len(entries) + 4
    extra = b""
    for tag, typ, vals in entries:
        payload = struct.pack(bo + fmt[typ] * len(vals), *vals)
        if len(payload) <= 4:
            field = payload.ljust(4, b"\x00")
        else:
            field = struct.pack(bo + "I", data_pos + len(extra))
            extra += payload
            if len(extra) % 2:
                extra += b"\x00"
        head += struct.pack(bo + "HHI", tag, typ, len(vals)) + field
    return head + struct.pack(bo + "I", next_ifd) + extra


def tiff(path, pages, bo="<", comp="none", tile=None, rows_per_strip=3, fmt=1, float_bits=None):
    """pages: list of numpy arrays (H,W) or (H,W,S). Writes all pages, one IFD each."""
    blob = bytearray((b"II" if bo == "<" else b"MM") + struct.pack(bo + "HI", 42, 0))
    prev_next_ptr = 4
    for arr in pages:
        a = arr if arr.ndim == 3 else arr[:, :, None]
        h, w, s = a.shape
        bits = a.dtype.itemsize * 8
        dt = a.dtype.newbyteorder(bo)
        pieces = []
        if tile:
            tw, th = tile
            for ty in range(0, h, th):
                for tx in range(0, w, tw):
                    t = np.zeros((th, tw, s), dtype=a.dtype)
                    part = a[ty:ty + th, tx:tx + tw]
                    t[: part.shape[0], : part.shape[1]] = part
                    pieces.append(compress(comp, t.astype(dt).tobytes()))
        else:
            for y in range(0, h, rows_per_strip):
                pieces.append(compress(comp, a[y:y + rows_per_strip].astype(dt).tobytes()))
        offsets = []
        for p in pieces:
            offsets.append(len(blob))
            blob += p
            if len(blob) % 2:
                blob += b"\x00"
        entries = [
            (256, 4, [w]), (257, 4, [h]), (258, 3, [bits] * s), (259, 3, [COMP[comp]]),
            (262, 3, [2 if s == 3 else 1]), (277, 3, [s]), (284, 3, [1]), (339, 3, [fmt] * s),
        ]
        if tile:
            entries += [(322, 4, [tile[0]]), (323, 4, [tile[1]]), (324, 4, offsets), (325, 4, [len(p) for p in pieces])]
        else:
            entries += [(273, 4, offsets), (278, 4, [rows_per_strip]), (279, 4, [len(p) for p in pieces])]
        ifd_pos = len(blob)
        blob[prev_next_ptr:prev_next_ptr + 4] = struct.pack(bo + "I", ifd_pos)
        ib = ifd_bytes(bo, entries, ifd_pos, 0)
        prev_next_ptr = ifd_pos + 2 + 12 * len(entries)
        blob += ib
    Path(path).write_bytes(bytes(blob))


TW, TH = 37, 21
t16 = rng.integers(0, 65536, size=(TH, TW), dtype=np.uint16)
t16[0, :4] = [0x0102, 256, 65535, 300]
t16[5:9, :] = 1234  # runs, so PackBits/LZW have repeats to encode
trgb16 = rng.integers(0, 65536, size=(TH, TW, 3), dtype=np.uint16)
trgb16[0, 0] = [0x0102, 0x0201, 4095]
t8 = rng.integers(0, 256, size=(TH, TW), dtype=np.uint8)
trgb8 = rng.integers(0, 256, size=(TH, TW, 3), dtype=np.uint8)
for bo, bon in (("<", "le"), (">", "be")):
    for comp in ("none", "lzw", "deflate", "packbits"):
        for layout, kw in (("strip", {}), ("tile", {"tile": (16, 16)})):
            for name, arr, dtype in (("g16", t16, "uint16"), ("rgb16", trgb16, "uint16"), ("g8", t8, "uint8"), ("rgb8", trgb8, "uint8")):
                key = f"t_{name}_{bon}_{comp}_{layout}"
                tiff(out / f"{key}.tif", [arr], bo=bo, comp=comp, **kw)
                expect(key, arr, dtype, 3 if arr.ndim == 3 else 1)

# multi-page: first page decoded, 3 pages counted
tiff(out / "t_multi.tif", [t16, t16[::-1].copy(), t16 // 2], bo=">", comp="lzw")
expect("t_multi", t16, "uint16", 1)
# 32-bit float: must be refused clearly
tiff(out / "t_float32.tif", [t16.astype(np.float32)], fmt=3)

(out / "manifest.json").write_text(json.dumps(manifest))
