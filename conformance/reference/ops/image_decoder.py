"""ImageDecoder for the lossless formats a numpy-only executor can read: PNG, BMP, PNM, and
uncompressed TIFF. Lossy codecs (JPEG, JPEG 2000, WebP) need an image library, which this
package does not import: they raise, and the corpus lists them in KNOWN_FAILURES.md.

Decoding is not a hot path (one image per call); PNG's Average and Paeth filters are
sequential along a row by definition, so they loop over pixels, vectorized over channels.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from ..registry import op


def _to_rgb(pixels: np.ndarray) -> np.ndarray:
    """(H, W, C) with C in {1, 2, 3, 4} -> (H, W, 3) uint8, alpha dropped, gray replicated."""
    if pixels.shape[2] in (1, 2):
        return np.repeat(pixels[:, :, :1], 3, axis=2)
    return pixels[:, :, :3]


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def _png_unfilter(raw: bytes, height: int, width: int, bpp: int) -> np.ndarray:
    stride = width * bpp
    data = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.int64)
    prior = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        kind, row = data[y, 0], data[y, 1:].astype(np.int64)
        if kind == 0:
            recon = row
        elif kind == 1:
            recon = np.cumsum(row.reshape(width, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:
            recon = (row + prior) % 256
        else:
            recon = np.zeros(stride, dtype=np.int64)
            left = np.zeros(bpp, dtype=np.int64)
            up_left = np.zeros(bpp, dtype=np.int64)
            for x in range(width):
                span = slice(x * bpp, (x + 1) * bpp)
                up = prior[span]
                predictor = (left + up) // 2 if kind == 3 else _paeth(left, up, up_left)
                recon[span] = (row[span] + predictor) % 256
                left, up_left = recon[span], up
        out[y] = recon
        prior = recon
    return out.astype(np.uint8).reshape(height, width, bpp)


def _decode_png(data: bytes) -> np.ndarray:
    pos, idat, palette = 8, [], None
    width = height = depth = color = interlace = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if depth != 8 or interlace:
        raise NotImplementedError(f"PNG with bit depth {depth}, interlace {interlace}")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    pixels = _png_unfilter(zlib.decompress(b"".join(idat)), height, width, channels)
    if color == 3:
        pixels = palette[pixels[:, :, 0]]
    return _to_rgb(pixels)


def _decode_bmp(data: bytes) -> np.ndarray:
    offset = struct.unpack_from("<I", data, 10)[0]
    width, height = struct.unpack_from("<ii", data, 18)
    bits, compression = struct.unpack_from("<HI", data, 28)
    if compression not in (0, 3) or bits not in (24, 32):
        raise NotImplementedError(f"BMP with {bits} bits per pixel, compression {compression}")
    channels = bits // 8
    row_size = (bits * width + 31) // 32 * 4
    rows = np.frombuffer(data, dtype=np.uint8, count=row_size * abs(height), offset=offset)
    pixels = rows.reshape(abs(height), row_size)[:, : width * channels].reshape(abs(height), width, channels)
    if height > 0:
        pixels = pixels[::-1]  # stored bottom-up
    return pixels[:, :, 2::-1]  # BGR(A) -> RGB


def _decode_pnm(data: bytes) -> np.ndarray:
    tokens, pos = [], 2
    while len(tokens) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        tokens.append(int(data[pos:end]))
        pos = end
    width, height, maxval = tokens
    if maxval > 255:
        raise NotImplementedError("PNM with 16-bit samples")
    channels = {b"P6": 3, b"P5": 1}[data[:2]]
    pixels = np.frombuffer(data, dtype=np.uint8, count=width * height * channels, offset=pos + 1)
    return _to_rgb(pixels.reshape(height, width, channels))


def _decode_tiff(data: bytes) -> np.ndarray:
    endian = "<" if data[:2] == b"II" else ">"
    ifd = struct.unpack_from(endian + "I", data, 4)[0]
    count = struct.unpack_from(endian + "H", data, ifd)[0]
    sizes = {1: 1, 3: 2, 4: 4}
    tags: dict[int, list[int]] = {}
    for k in range(count):
        tag, kind, n, value_at = struct.unpack_from(endian + "HHII", data, ifd + 2 + 12 * k)
        size = sizes.get(kind)
        if size is None:
            continue
        where = ifd + 2 + 12 * k + 8 if size * n <= 4 else value_at
        code = {1: "B", 3: "H", 4: "I"}[kind]
        tags[tag] = list(struct.unpack_from(endian + code * n, data, where))
    width, height = tags[256][0], tags[257][0]
    channels = tags.get(277, [1])[0]
    if tags.get(259, [1])[0] != 1 or tags.get(258, [8])[0] != 8 or tags.get(284, [1])[0] != 1:
        raise NotImplementedError("compressed, planar or non-8-bit TIFF")
    strips = b"".join(data[o:o + n] for o, n in zip(tags[273], tags[279]))
    pixels = np.frombuffer(strips, dtype=np.uint8, count=width * height * channels).reshape(height, width, channels)
    return _to_rgb(pixels)


def _decode(data: bytes) -> np.ndarray:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _decode_png(data)
    if data[:2] == b"BM":
        return _decode_bmp(data)
    if data[:2] in (b"P5", b"P6"):
        return _decode_pnm(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _decode_tiff(data)
    raise NotImplementedError("ImageDecoder: only PNG, BMP, PNM and uncompressed TIFF are decoded "
                              "(JPEG, JPEG 2000 and WebP need an image library)")


@op("ImageDecoder", since=20)
def image_decoder(ctx, encoded):
    rgb = _decode(np.asarray(encoded, dtype=np.uint8).tobytes())
    pixel_format = ctx.attr("pixel_format", "RGB")
    if pixel_format == "BGR":
        return np.ascontiguousarray(rgb[:, :, ::-1])
    if pixel_format == "Grayscale":
        # ITU-R 601-2 luma in fixed point, as the common decoders round it
        weights = np.array([19595, 38470, 7471], dtype=np.int64)
        gray = (rgb.astype(np.int64) @ weights + 0x8000) >> 16
        return gray.astype(np.uint8)[:, :, None]
    return np.ascontiguousarray(rgb)
