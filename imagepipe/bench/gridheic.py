#!/usr/bin/python3
"""gridheic.py IN OUT [TILE] [irot=N] [imir=A] — write IN (any image Pillow reads) as a HEIC laid out the way an
iPhone writes its photos: a `grid` image item over hidden TILE×TILE HEVC tiles (default 512,
an iPhone's), the last row and column cropped by the grid's output size. Each tile is encoded by
libheif's `heif-enc -q 60` (x265); this script only re-wraps the tiles' HEVC streams under one
grid item (ISO/IEC 23008-12 §6.6.2.3). The picture is encoder-made: no iPhone metadata (EXIF,
thumbnail, HDR gain map), only the grid structure. irot=N (quarter turns anticlockwise) and
imir=A (mirror axis 0 or 1) add those transformative properties to the grid item, in that order.

Needs /usr/bin/python3 with Pillow (Debian python3-pil) and heif-enc (libheif-examples).
"""
import os
import struct
import subprocess
import sys
import tempfile

from PIL import Image


def box(typ, payload):
    return struct.pack(">I4s", 8 + len(payload), typ) + payload


def fullbox(typ, version, flags, payload):
    return box(typ, struct.pack(">I", (version << 24) | flags) + payload)


def children(b, off, end):
    """Yields (type, payload start, box end) of the boxes in b[off:end]."""
    while off < end:
        size, typ = struct.unpack(">I4s", b[off:off + 8])
        hdr = 8
        if size == 1:
            size, hdr = struct.unpack(">Q", b[off + 8:off + 16])[0], 16
        elif size == 0:
            size = end - off
        yield typ, off + hdr, off + size
        off += size


def find(b, path, off=0, end=None):
    """The payload range of the first box along path (full boxes' headers skipped)."""
    end = len(b) if end is None else end
    for typ, start, stop in children(b, off, end):
        if typ == path[0]:
            if typ == b"meta":
                start += 4
            if len(path) == 1:
                return start, stop
            return find(b, path[1:], start, stop)
    raise ValueError("no %s box" % path[0].decode())


def tile_stream(heic):
    """The hvcC property and the coded data of a single-image HEIC from heif-enc."""
    s, e = find(heic, [b"meta", b"iprp", b"ipco", b"hvcC"])
    hvcc = heic[s:e]
    s, _ = find(heic, [b"meta", b"iloc"])
    version = heic[s]
    sizes = heic[s + 4]
    off_size, len_size = sizes >> 4, sizes & 15
    base_size = heic[s + 5] >> 4
    if version != 0 or (off_size, len_size, base_size) != (4, 4, 4):
        raise ValueError("unexpected iloc layout from heif-enc")
    count, = struct.unpack(">H", heic[s + 6:s + 8])
    item, dref, base, extents, off, length = struct.unpack(">HHIHII", heic[s + 8:s + 26])
    off += base
    if count != 1 or extents != 1:
        raise ValueError("unexpected iloc items from heif-enc")
    return hvcc, heic[off:off + length]


def main():
    args = [a for a in sys.argv[1:] if "=" not in a]
    opts = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
    src, out = args[0], args[1]
    tile = int(args[2]) if len(args) > 2 else 512
    img = Image.open(src).convert("RGB")
    w, h = img.size
    cols, rows = (w + tile - 1) // tile, (h + tile - 1) // tile
    streams = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rows):
            for c in range(cols):
                # Tiles past the edge repeat the last pixels (the grid crops them away).
                t = Image.new("RGB", (tile, tile))
                part = img.crop((c * tile, r * tile, min(w, c * tile + tile), min(h, r * tile + tile)))
                t.paste(part, (0, 0))
                if part.size[0] < tile:
                    edge = part.crop((part.size[0] - 1, 0, part.size[0], part.size[1]))
                    t.paste(edge.resize((tile - part.size[0], part.size[1])), (part.size[0], 0))
                if part.size[1] < tile:
                    edge = t.crop((0, part.size[1] - 1, tile, part.size[1]))
                    t.paste(edge.resize((tile, tile - part.size[1])), (0, part.size[1]))
                png, heic = os.path.join(tmp, "t.png"), os.path.join(tmp, "t.heic")
                t.save(png)
                subprocess.run(["heif-enc", "-q", "60", "-o", heic, png], check=True, stdout=subprocess.DEVNULL)
                streams.append(tile_stream(open(heic, "rb").read()))

    n = len(streams)
    grid_id = n + 1
    # Properties: one hvcC per distinct decoder configuration, the tile ispe, the grid ispe.
    hvccs = []
    for hvcc, _ in streams:
        if hvcc not in hvccs:
            hvccs.append(hvcc)
    props = [box(b"hvcC", x) for x in hvccs]
    tile_ispe = len(props) + 1
    props.append(fullbox(b"ispe", 0, 0, struct.pack(">II", tile, tile)))
    grid_ispe = len(props) + 1
    props.append(fullbox(b"ispe", 0, 0, struct.pack(">II", w, h)))
    grid_props = [grid_ispe]
    if "irot" in opts:
        props.append(box(b"irot", bytes([int(opts["irot"]) & 3])))
        grid_props.append(0x80 | len(props))
    if "imir" in opts:
        props.append(box(b"imir", bytes([int(opts["imir"]) & 1])))
        grid_props.append(0x80 | len(props))
    if len(props) > 127:
        raise ValueError("too many properties for a version-0 ipma")
    ipma = struct.pack(">I", n + 1)
    for i, (hvcc, _) in enumerate(streams):
        ipma += struct.pack(">HBBB", i + 1, 2, 0x80 | (hvccs.index(hvcc) + 1), tile_ispe)
    ipma += struct.pack(">HB", grid_id, len(grid_props)) + bytes(grid_props)
    iprp = box(b"iprp", box(b"ipco", b"".join(props)) + fullbox(b"ipma", 0, 0, ipma))

    infes = b"".join(fullbox(b"infe", 2, 1, struct.pack(">HH4s", i + 1, 0, b"hvc1") + b"\0") for i in range(n))
    infes += fullbox(b"infe", 2, 0, struct.pack(">HH4s", grid_id, 0, b"grid") + b"\0")
    iinf = fullbox(b"iinf", 0, 0, struct.pack(">H", n + 1) + infes)
    dimg = box(b"dimg", struct.pack(">HH", grid_id, n) + b"".join(struct.pack(">H", i + 1) for i in range(n)))
    iref = fullbox(b"iref", 0, 0, dimg)
    grid = struct.pack(">BBBBHH", 0, 0, rows - 1, cols - 1, w, h)
    idat = box(b"idat", grid)
    hdlr = fullbox(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"pict") + b"\0" * 12 + b"\0")
    pitm = fullbox(b"pitm", 0, 0, struct.pack(">H", grid_id))
    ftyp = box(b"ftyp", b"heic" + struct.pack(">I", 0) + b"mif1heic")

    def iloc(mdat_start):
        # version 1: construction_method 1 points the grid item into idat.
        body = struct.pack(">BBH", 0x44, 0x00, n + 1)
        off = mdat_start
        for i, (_, data) in enumerate(streams):
            body += struct.pack(">HHHHII", i + 1, 0, 0, 1, off, len(data))
            off += len(data)
        body += struct.pack(">HHHHII", grid_id, 1, 0, 1, 0, len(grid))
        return fullbox(b"iloc", 1, 0, body)

    def meta(mdat_start):
        return fullbox(b"meta", 0, 0, hdlr + pitm + iloc(mdat_start) + iinf + iref + iprp + idat)

    mdat_start = len(ftyp) + len(meta(0)) + 8
    data = b"".join(d for _, d in streams)
    with open(out, "wb") as f:
        f.write(ftyp + meta(mdat_start) + box(b"mdat", data))


if __name__ == "__main__":
    main()
