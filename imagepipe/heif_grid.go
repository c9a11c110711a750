package imagepipe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"

	"github.com/disintegration/imaging"
)

// A phone HEIC (an iPhone's, most Androids') is a `grid` image item over
// hidden 512×512 HEVC tiles. heifGridOf reads that layout from the file's
// meta box (ISO/IEC 23008-12 §6.6.2.3, ISO/IEC 14496-12 §8.11), so that the
// fast path can decode and shrink it tile by tile: libheif 1.15 would
// otherwise paste every tile into a full-size RGB 4:4:4 picture (36 MB for
// 12 MP) and convert that to the 4:2:0 asked for (another 18 MB).

// heifGrid is a grid primary image: rows×cols tiles (item IDs in row-major
// order) cropped to w×h, then transformed by ops in order.
type heifGrid struct {
	rows, cols int
	w, h       int
	tiles      []uint32
	ops        []heifTransform
}

// heifTransform is an irot (rotate anticlockwise by quarter turns) or an
// imir (mirror) property of the grid item.
type heifTransform struct {
	rotate int  // quarter turns anticlockwise; used when !mirror
	mirror bool // imir
	axis   int  // imir axis: 0 vertical (left↔right), 1 horizontal (top↔bottom)
}

var errNotGrid = errors.New("heif: primary image is not a plain grid")

// heifGridOf returns the primary image's grid, or errNotGrid when the
// primary item is something else or carries a property the tile path does
// not apply (a crop, an unknown essential one), where libheif decodes the
// whole image instead.
func heifGridOf(data []byte) (*heifGrid, error) {
	meta := findBox(data, "meta")
	if len(meta) < 4 {
		return nil, errNotGrid
	}
	meta = meta[4:]
	primary, ok := heifPrimary(findBox(meta, "pitm"))
	if !ok || heifItemType(findBox(meta, "iinf"), primary) != "grid" {
		return nil, errNotGrid
	}
	tiles := heifRefs(findBox(meta, "iref"), "dimg", primary)
	desc, ok := heifItemData(data, meta, primary)
	if !ok || len(desc) < 8 || desc[0] != 0 || len(tiles) == 0 {
		return nil, errNotGrid
	}
	g := &heifGrid{rows: int(desc[2]) + 1, cols: int(desc[3]) + 1, tiles: tiles}
	if desc[1]&1 == 0 {
		g.w, g.h = int(binary.BigEndian.Uint16(desc[4:])), int(binary.BigEndian.Uint16(desc[6:]))
	} else if len(desc) >= 12 {
		g.w, g.h = int(binary.BigEndian.Uint32(desc[4:])), int(binary.BigEndian.Uint32(desc[8:]))
	}
	if g.rows*g.cols != len(tiles) || g.w <= 0 || g.h <= 0 {
		return nil, errNotGrid
	}
	iprp := findBox(meta, "iprp")
	props := boxList(findBox(iprp, "ipco"))
	for _, a := range heifAssociations(findBox(iprp, "ipma"), primary) {
		if a.index < 1 || a.index > len(props) {
			return nil, errNotGrid
		}
		p := props[a.index-1]
		switch p.typ {
		case "ispe", "pixi", "colr":
		case "irot":
			if len(p.body) < 1 {
				return nil, errNotGrid
			}
			g.ops = append(g.ops, heifTransform{rotate: int(p.body[0] & 3)})
		case "imir":
			if len(p.body) < 1 {
				return nil, errNotGrid
			}
			g.ops = append(g.ops, heifTransform{mirror: true, axis: int(p.body[0] & 1)})
		default:
			if a.essential || p.typ == "clap" {
				return nil, errNotGrid
			}
		}
	}
	return g, nil
}

// box is one ISO-BMFF box.
type box struct {
	typ  string
	body []byte
}

// boxList splits data into its boxes, stopping at a malformed one.
func boxList(data []byte) []box {
	var out []box
	for rest := data; len(rest) >= 8; {
		typ, body, next := nextBox(rest)
		if body == nil {
			break
		}
		out = append(out, box{typ, body})
		rest = next
	}
	return out
}

// reader reads big-endian fields, remembering whether it ran short.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) n(size int) uint64 {
	if size == 0 {
		return 0
	}
	if len(r.b) < size {
		r.bad, r.b = true, nil
		return 0
	}
	var v uint64
	for _, c := range r.b[:size] {
		v = v<<8 | uint64(c)
	}
	r.b = r.b[size:]
	return v
}

// id reads an item ID (or a count of the same width): 16 bits, or 32
// when wide.
func (r *reader) id(wide bool) uint32 { return uint32(r.n(idSize(wide))) }

func idSize(wide bool) int {
	if wide {
		return 4
	}
	return 2
}

// heifPrimary reads pitm.
func heifPrimary(pitm []byte) (uint32, bool) {
	r := reader{b: pitm}
	v := r.n(4) >> 24
	id := r.id(v != 0)
	return id, !r.bad
}

// unhideTiles returns a copy of data in which g's tiles are not hidden
// items: libheif 1.15 opens handles only for top-level (unhidden) images
// (heif_image_handle_decode_image_tile came in 1.19), and a tile is an
// ordinary HEVC image item once its infe's hidden flag is cleared.
func (g *heifGrid) unhideTiles(data []byte) []byte {
	out := bytes.Clone(data)
	meta := findBox(out, "meta")
	if len(meta) < 4 {
		return out
	}
	r := reader{b: findBox(meta[4:], "iinf")}
	v := r.n(4) >> 24
	r.n(idSize(v != 0)) // entry count
	if r.bad {
		return out
	}
	tiles := make(map[uint32]bool, len(g.tiles))
	for _, id := range g.tiles {
		tiles[id] = true
	}
	for _, e := range boxList(r.b) {
		er := reader{b: e.body}
		ev := er.n(4) >> 24
		if e.typ == "infe" && ev >= 2 && tiles[er.id(ev == 3)] && !er.bad {
			e.body[3] &^= 1 // flags bit 0: hidden; e.body aliases out
		}
	}
	return out
}

// heifItemType returns the item_type of item id from iinf (infe version ≥ 2).
func heifItemType(iinf []byte, id uint32) string {
	r := reader{b: iinf}
	v := r.n(4) >> 24
	r.n(idSize(v != 0)) // entry count
	if r.bad {
		return ""
	}
	for _, e := range boxList(r.b) {
		if e.typ != "infe" {
			continue
		}
		er := reader{b: e.body}
		ev := er.n(4) >> 24
		if ev < 2 {
			continue
		}
		eid := er.id(ev == 3)
		er.n(2) // protection index
		typ := er.n(4)
		if !er.bad && eid == id {
			return string([]byte{byte(typ >> 24), byte(typ >> 16), byte(typ >> 8), byte(typ)})
		}
	}
	return ""
}

// heifRefs returns the items that item from references with refType.
func heifRefs(iref []byte, refType string, from uint32) []uint32 {
	r := reader{b: iref}
	wide := r.n(4)>>24 != 0
	if r.bad {
		return nil
	}
	for _, ref := range boxList(r.b) {
		if ref.typ != refType {
			continue
		}
		rr := reader{b: ref.body}
		if rr.id(wide) != from {
			continue
		}
		out := make([]uint32, rr.n(2))
		for i := range out {
			out[i] = rr.id(wide)
		}
		if rr.bad {
			return nil
		}
		return out
	}
	return nil
}

// heifItemData returns item id's bytes from iloc: one extent, in the file
// (construction method 0) or in meta's idat (method 1).
func heifItemData(file, meta []byte, id uint32) ([]byte, bool) {
	r := reader{b: findBox(meta, "iloc")}
	v := r.n(4) >> 24
	sizes := r.n(2)
	offSize, lenSize, baseSize, idxSize := int(sizes>>12), int(sizes>>8&15), int(sizes>>4&15), int(sizes&15)
	if v == 0 {
		idxSize = 0
	}
	count := r.n(idSize(v == 2))
	for range count {
		iid := r.id(v == 2)
		method := 0
		if v != 0 {
			method = int(r.n(2) & 15)
		}
		r.n(2) // data reference index
		base := r.n(baseSize)
		extents := r.n(2)
		var off, length uint64
		for range extents {
			r.n(idxSize)
			off, length = r.n(offSize), r.n(lenSize)
		}
		if r.bad {
			return nil, false
		}
		if iid != id {
			continue
		}
		if extents != 1 {
			return nil, false
		}
		src := file
		if method == 1 {
			src = findBox(meta, "idat")
		} else if method != 0 {
			return nil, false
		}
		start := base + off
		if start > uint64(len(src)) || length > uint64(len(src))-start {
			return nil, false
		}
		return src[start : start+length], true
	}
	return nil, false
}

// association is one property of an item: its 1-based index in ipco.
type association struct {
	index     int
	essential bool
}

// heifAssociations returns item id's properties from ipma, in order.
func heifAssociations(ipma []byte, id uint32) []association {
	r := reader{b: ipma}
	vf := r.n(4)
	wideID, wideIndex := vf>>24 >= 1, vf&1 != 0
	for range r.n(4) {
		iid := r.id(wideID)
		n := int(r.n(1))
		var out []association
		for range n {
			if wideIndex {
				a := r.n(2)
				out = append(out, association{int(a & 0x7fff), a&0x8000 != 0})
			} else {
				a := r.n(1)
				out = append(out, association{int(a & 0x7f), a&0x80 != 0})
			}
		}
		if r.bad {
			return nil
		}
		if iid == id {
			return out
		}
	}
	return nil
}

// transform applies the grid item's irot and imir properties in their
// order, as libheif applies them to a whole decode.
func (g *heifGrid) transform(m *image.NRGBA) *image.NRGBA {
	for _, op := range g.ops {
		switch {
		case op.mirror && op.axis == 0:
			m = imaging.FlipV(m)
		case op.mirror:
			m = imaging.FlipH(m)
		case op.rotate == 1:
			m = imaging.Rotate90(m)
		case op.rotate == 2:
			m = imaging.Rotate180(m)
		case op.rotate == 3:
			m = imaging.Rotate270(m)
		}
	}
	return m
}
