package export

import (
	"bytes"
	"errors"
	"fmt"
	goimage "image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strconv"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// The PNG of the pictures is drawn in pure Go from the same scene as the
// SVG: boxes with image/draw, text with golang.org/x/image/font/opentype.
// The Go fonts (BSD licence, embedded in x/image) cover Latin, Greek and
// Cyrillic but no Chinese. A CJK font is megabytes, too large to embed in
// the binary for one chat attachment, so PNGOptions.Font takes one (for
// instance Debian's fonts-wqy-microhei or fonts-noto-cjk, read at start-up);
// without it, labels it cannot draw show as boxes and the picture carries a
// line saying the HTML export shows them.

// PNGOptions tune DiagramPNG.
type PNGOptions struct {
	// Font is a TrueType/OpenType font or collection (.ttc: its first
	// font) used for the runes the Go fonts lack, such as Chinese.
	Font []byte
	// Scale multiplies the picture's size (default 2, sharp on phones).
	Scale float64
}

// ErrNoPictures means the session has neither a KJ grouping nor a vote
// result to draw yet.
var ErrNoPictures = errors.New("export: no KJ grouping or vote result to draw")

// noFontNotice is drawn under a picture whose labels need a font we lack.
const noFontNotice = "Some labels need a CJK font that this server lacks: the HTML export shows them."

// DiagramPNG draws the KJ affinity diagram above the vote chart as one PNG,
// for a chat attachment (/roundtable export can attach it).
func DiagramPNG(p Pictures, o PNGOptions) ([]byte, error) {
	var scenes []*scene
	if p.KJ != nil && len(p.KJ.Groups) > 0 {
		scenes = append(scenes, kjScene(*p.KJ, "KJ affinity diagram"))
	}
	if p.Vote != nil && len(p.Vote.Counts) > 0 {
		scenes = append(scenes, voteScene(*p.Vote, "Vote result"))
	}
	if len(scenes) == 0 {
		return nil, ErrNoPictures
	}
	if o.Scale <= 0 {
		o.Scale = 2
	}
	fonts, err := loadFonts(o.Font)
	if err != nil {
		return nil, err
	}
	w, h := 0.0, 0.0
	for _, sc := range scenes {
		w = math.Max(w, sc.W)
		h += sc.H
	}
	noticeH := 28.0
	img := goimage.NewRGBA(goimage.Rect(0, 0, int(w*o.Scale), int((h+noticeH)*o.Scale)))
	draw.Draw(img, img.Bounds(), goimage.White, goimage.Point{}, draw.Src)
	r := &raster{img: img, scale: o.Scale, fonts: fonts, faces: map[faceKey]font.Face{}}
	top := 0.0
	for _, sc := range scenes {
		r.scene(sc, top)
		top += sc.H
	}
	if r.missing {
		r.text(shape{x: 16, y: top + 18, text: noFontNotice, size: 12, anchor: "start", fill: "#a04000"}, 0)
	} else {
		img = img.SubImage(goimage.Rect(0, 0, img.Bounds().Dx(), int(h*o.Scale))).(*goimage.RGBA)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode diagram png: %w", err)
	}
	return buf.Bytes(), nil
}

// fontSet is the regular and bold Go fonts and an optional fallback.
type fontSet struct {
	regular, bold, extra *sfnt.Font
}

// goFonts parses the embedded Go fonts once, on first use; the parsed
// fonts are never changed after.
var goFonts = sync.OnceValues(func() (fontSet, error) {
	var fs fontSet
	var err error
	if fs.regular, err = opentype.Parse(goregular.TTF); err == nil {
		fs.bold, err = opentype.Parse(gobold.TTF)
	}
	return fs, err
})

func loadFonts(extra []byte) (fontSet, error) {
	fs, err := goFonts()
	if err != nil {
		return fontSet{}, fmt.Errorf("load go fonts: %w", err)
	}
	if len(extra) > 0 {
		c, err := opentype.ParseCollection(extra)
		if err != nil {
			return fontSet{}, fmt.Errorf("parse PNG font: %w", err)
		}
		if fs.extra, err = c.Font(0); err != nil {
			return fontSet{}, fmt.Errorf("parse PNG font: %w", err)
		}
	}
	return fs, nil
}

type faceKey struct {
	f    *sfnt.Font
	size float64
}

// raster draws scenes onto an RGBA image.
type raster struct {
	img     *goimage.RGBA
	scale   float64
	fonts   fontSet
	faces   map[faceKey]font.Face
	buf     sfnt.Buffer
	missing bool // a rune had no glyph in any font
}

func (r *raster) scene(sc *scene, top float64) {
	for _, s := range sc.Shapes {
		switch s.kind {
		case "rect":
			r.rect(s, top)
		case "line":
			r.line(s, top)
		case "text":
			r.text(s, top)
		}
	}
}

func parseHex(s string) (color.RGBA, bool) {
	if len(s) != 7 || s[0] != '#' {
		return color.RGBA{}, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return color.RGBA{}, false
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}, true
}

// rect fills a rounded rectangle and, when it has one, strokes its border.
func (r *raster) rect(s shape, top float64) {
	x0, y0 := s.x*r.scale, (s.y+top)*r.scale
	x1, y1 := x0+s.w*r.scale, y0+s.h*r.scale
	rad := s.radius * r.scale
	fill, hasFill := parseHex(s.fill)
	stroke, hasStroke := parseHex(s.stroke)
	bw := r.scale // border width
	for py := int(y0); py < int(math.Ceil(y1)); py++ {
		for px := int(x0); px < int(math.Ceil(x1)); px++ {
			cx, cy := float64(px)+0.5, float64(py)+0.5
			d := cornerDist(cx, cy, x0, y0, x1, y1, rad)
			switch {
			case d > 0:
				continue
			case hasStroke && d > -bw:
				r.img.SetRGBA(px, py, stroke)
			case hasFill:
				r.img.SetRGBA(px, py, fill)
			}
		}
	}
}

// cornerDist is the signed distance of (x, y) from the rounded rectangle's
// edge: negative inside.
func cornerDist(x, y, x0, y0, x1, y1, rad float64) float64 {
	qx := math.Max(x0+rad-x, x-(x1-rad))
	qy := math.Max(y0+rad-y, y-(y1-rad))
	if qx > 0 && qy > 0 {
		return math.Hypot(qx, qy) - rad
	}
	return math.Max(qx, qy) - rad
}

// line draws a one-unit line (the scenes' lines are axis-aligned).
func (r *raster) line(s shape, top float64) {
	c, ok := parseHex(s.stroke)
	if !ok {
		return
	}
	x0, y0 := s.x*r.scale, (s.y+top)*r.scale
	x1, y1 := (s.x+s.w)*r.scale, (s.y+s.h+top)*r.scale
	steps := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0)))
	for i := 0; i <= steps; i++ {
		t := 0.0
		if steps > 0 {
			t = float64(i) / float64(steps)
		}
		px, py := int(x0+(x1-x0)*t), int(y0+(y1-y0)*t)
		for d := 0; d < int(math.Max(1, r.scale)); d++ {
			if x0 == x1 {
				r.img.SetRGBA(px+d, py, c)
			} else {
				r.img.SetRGBA(px, py+d, c)
			}
		}
	}
}

// run is a piece of text drawn with one font.
type run struct {
	face font.Face
	text string
}

// text draws a label, each rune from the first font that has it.
func (r *raster) text(s shape, top float64) {
	base := r.fonts.regular
	if s.bold {
		base = r.fonts.bold
	}
	var runs []run
	var width fixed.Int26_6
	for _, ch := range s.text {
		f := base
		if !r.has(f, ch) && r.fonts.extra != nil && r.has(r.fonts.extra, ch) {
			f = r.fonts.extra
		} else if !r.has(f, ch) && ch > ' ' {
			r.missing = true
		}
		face := r.face(f, s.size*r.scale)
		adv, _ := face.GlyphAdvance(ch)
		width += adv
		if n := len(runs); n > 0 && runs[n-1].face == face {
			runs[n-1].text += string(ch)
		} else {
			runs = append(runs, run{face, string(ch)})
		}
	}
	x := fixed.Int26_6(s.x * r.scale * 64)
	switch s.anchor {
	case "middle":
		x -= width / 2
	case "end":
		x -= width
	}
	c, ok := parseHex(s.fill)
	if !ok {
		c = color.RGBA{0, 0, 0, 0xff}
	}
	d := font.Drawer{Dst: r.img, Src: goimage.NewUniform(c), Dot: fixed.Point26_6{X: x, Y: fixed.Int26_6((s.y + top) * r.scale * 64)}}
	for _, rn := range runs {
		d.Face = rn.face
		d.DrawString(rn.text)
	}
}

func (r *raster) has(f *sfnt.Font, ch rune) bool {
	i, err := f.GlyphIndex(&r.buf, ch)
	return err == nil && i != 0
}

func (r *raster) face(f *sfnt.Font, size float64) font.Face {
	k := faceKey{f, size}
	if fc, ok := r.faces[k]; ok {
		return fc
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil { // only for a bad size; the basic face still draws
		return r.face(r.fonts.regular, 12)
	}
	r.faces[k] = fc
	return fc
}
