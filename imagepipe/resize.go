package imagepipe

import (
	"image"
	"runtime"
	"sync"

	"github.com/disintegration/imaging"
)

// preShrinkMargin is how much larger than the target the box-filtered
// intermediate must stay; the box pass does the bulk of the reduction
// cheaply and the final Lanczos pass the last (< 2×) step and the filtering.
const preShrinkMargin = 1.0

// fitSize returns the size of a w×h image scaled to fit maxSide; images
// already small enough keep their size.
func fitSize(w, h, maxSide int) (int, int) {
	if w <= maxSide && h <= maxSide {
		return w, h
	}
	if w >= h {
		return maxSide, max(1, (h*maxSide+w/2)/w)
	}
	return max(1, (w*maxSide+h/2)/h), maxSide
}

// shrink returns img resized to fit maxSide as a fresh *image.NRGBA. Large
// reductions first average k×k blocks in parallel, directly on the YCbCr or
// Gray planes where the decoder produced them, and then resize the much
// smaller intermediate with Lanczos.
func (p *Pipeline) shrink(img image.Image, maxSide int) *image.NRGBA {
	b := img.Bounds()
	dw, dh := fitSize(b.Dx(), b.Dy(), maxSide)
	var src image.Image = img
	if inter := p.boxShrink(img, dw, dh); inter != nil {
		defer p.putNRGBA(inter)
		src = inter
	} else if m, ok := planesOf(img); ok {
		return resizeYCbCr(m, dw, dh)
	}
	if sb := src.Bounds(); sb.Dx() == dw && sb.Dy() == dh {
		return imaging.Clone(src)
	}
	return imaging.Resize(src, dw, dh, imaging.Linear)
}

// planesOf views a YCbCr or Gray image that starts at the origin as
// planes (a nil Cb plane means grayscale).
func planesOf(img image.Image) (*image.YCbCr, bool) {
	switch m := img.(type) {
	case *image.YCbCr:
		return m, m.Rect.Min == image.Point{}
	case *image.Gray:
		return &image.YCbCr{Y: m.Pix, YStride: m.Stride, Rect: m.Rect}, m.Rect.Min == image.Point{}
	}
	return nil, false
}

// boxShrink averages k×k blocks towards dw×dh, or returns nil when the
// reduction is too small to be worth a box pass. The last row and column
// average the pixels that remain.
func (p *Pipeline) boxShrink(img image.Image, dw, dh int) *image.NRGBA {
	b := img.Bounds()
	step := 1
	m, isYCbCr := img.(*image.YCbCr)
	if g, ok := img.(*image.Gray); ok {
		m, isYCbCr = &image.YCbCr{Y: g.Pix, YStride: g.Stride, Rect: g.Rect}, true
	}
	if isYCbCr {
		if b.Min != (image.Point{}) {
			isYCbCr = false
		} else {
			hx, vy := chromaFactors(m.SubsampleRatio)
			step = max(hx, vy)
		}
	}
	k := blockFactor(b.Dx(), b.Dy(), dw, dh, step)
	if k < 2 {
		return nil
	}
	dst := p.getNRGBA((b.Dx()+k-1)/k, (b.Dy()+k-1)/k)
	switch n := img.(type) {
	case *image.NRGBA:
		boxNRGBA(n, k, dst, false)
	case *image.RGBA:
		boxNRGBA((*image.NRGBA)(n), k, dst, true)
	default:
		if isYCbCr {
			boxYCbCr(m, k, dst)
		} else {
			boxNRGBA(imaging.Clone(img), k, dst, false)
		}
	}
	return dst
}

// blockFactor returns the box factor for shrinking a sw×sh image towards
// dw×dh, leaving at least preShrinkMargin of reduction to the final filter;
// step makes it a multiple of the chroma subsampling. 1 means no box pass.
func blockFactor(sw, sh, dw, dh, step int) int {
	ratio := min(float64(sw)/float64(dw), float64(sh)/float64(dh))
	k := int(ratio / preShrinkMargin)
	k -= k % step
	if k < 2 {
		return 1
	}
	return k
}

// chromaFactors returns the horizontal and vertical chroma subsampling.
func chromaFactors(r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

// addBlocks adds the sums of consecutive k-wide blocks of row to acc; the
// last block may be shorter. len(acc) must be ceil(len(row)/k).
func addBlocks(acc []uint32, row []uint8, k int) {
	full := len(row) / k
	a := acc[:full]
	switch k {
	case 1:
		for i, v := range row[:full] {
			a[i] += uint32(v)
		}
	case 2:
		r := row[:2*full]
		for i := range a {
			a[i] += uint32(r[2*i]) + uint32(r[2*i+1])
		}
	case 4:
		r := row[:4*full]
		for i := range a {
			b := r[4*i : 4*i+4 : 4*i+4]
			a[i] += uint32(b[0]) + uint32(b[1]) + uint32(b[2]) + uint32(b[3])
		}
	default:
		for i := range a {
			var s uint32
			for _, v := range row[i*k : i*k+k] {
				s += uint32(v)
			}
			a[i] += s
		}
	}
	if rest := row[full*k:]; len(rest) > 0 {
		var s uint32
		for _, v := range rest {
			s += uint32(v)
		}
		acc[full] += s
	}
}

// boxYCbCr averages k×k luma blocks and the matching chroma blocks (k is a
// multiple of the subsampling, and the image starts at the origin), then
// converts to RGB once per output pixel. A nil Cb plane means grayscale.
func boxYCbCr(src *image.YCbCr, k int, dst *image.NRGBA) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	hx, vy := chromaFactors(src.SubsampleRatio)
	cw, ch := (w+hx-1)/hx, (h+vy-1)/vy
	kx, ky := k/hx, k/vy
	gray := src.Cb == nil
	parallel(dh, func(lo, hi int) {
		sy := make([]uint32, dw)
		scb := make([]uint32, dw)
		scr := make([]uint32, dw)
		for oy := lo; oy < hi; oy++ {
			clear(sy)
			y0, y1 := oy*k, min(oy*k+k, h)
			for y := y0; y < y1; y++ {
				addBlocks(sy, src.Y[y*src.YStride:y*src.YStride+w], k)
			}
			c0, c1 := oy*ky, min(oy*ky+ky, ch)
			if !gray {
				clear(scb)
				clear(scr)
				for cy := c0; cy < c1; cy++ {
					addBlocks(scb, src.Cb[cy*src.CStride:cy*src.CStride+cw], kx)
					addBlocks(scr, src.Cr[cy*src.CStride:cy*src.CStride+cw], kx)
				}
			}
			out := dst.Pix[oy*dst.Stride : oy*dst.Stride+4*dw]
			n := uint32(k * (y1 - y0))
			nc := uint32(kx * (c1 - c0))
			for i := range dw {
				if i == dw-1 { // the last column may be narrower
					n = uint32((w - i*k) * (y1 - y0))
					nc = uint32((cw - i*kx) * (c1 - c0))
				}
				yy := uint8((sy[i] + n/2) / n)
				r, g, b := yy, yy, yy
				if !gray {
					r, g, b = ycbcrToRGB(yy, uint8((scb[i]+nc/2)/nc), uint8((scr[i]+nc/2)/nc))
				}
				p := out[4*i : 4*i+4 : 4*i+4]
				p[0], p[1], p[2], p[3] = r, g, b, 0xFF
			}
		}
	})
}

// span is one output column's source range.
type span struct{ x0, x1 int }

func spans(w, k, n int) []span {
	s := make([]span, n)
	for i := range s {
		s[i] = span{i * k, min(i*k+k, w)}
	}
	return s
}

// boxNRGBA averages with alpha weighting, so transparent pixels do not
// darken their neighbours' colour. premul says src holds premultiplied
// (image.RGBA) pixels, which are already weighted.
func boxNRGBA(src *image.NRGBA, k int, dst *image.NRGBA, premul bool) {
	b := src.Rect
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	cols := spans(b.Dx(), k, dw)
	parallel(dh, func(lo, hi int) {
		sum := make([]uint64, 4*dw)
		for oy := lo; oy < hi; oy++ {
			clear(sum)
			y0 := oy * k
			y1 := min(y0+k, b.Dy())
			for y := y0; y < y1; y++ {
				row := src.Pix[y*src.Stride:]
				for i, c := range cols {
					s := sum[4*i : 4*i+4 : 4*i+4]
					for x := c.x0; x < c.x1; x++ {
						p := row[4*x : 4*x+4 : 4*x+4]
						a := uint64(p[3])
						if premul {
							s[0] += uint64(p[0]) * 255
							s[1] += uint64(p[1]) * 255
							s[2] += uint64(p[2]) * 255
							s[3] += a
							continue
						}
						s[0] += uint64(p[0]) * a
						s[1] += uint64(p[1]) * a
						s[2] += uint64(p[2]) * a
						s[3] += a
					}
				}
			}
			out := dst.Pix[oy*dst.Stride:]
			for i, c := range cols {
				s := sum[4*i : 4*i+4 : 4*i+4]
				p := out[4*i : 4*i+4 : 4*i+4]
				n := uint64((c.x1 - c.x0) * (y1 - y0))
				if s[3] == 0 {
					p[0], p[1], p[2], p[3] = 0, 0, 0, 0
					continue
				}
				p[0] = uint8((s[0] + s[3]/2) / s[3])
				p[1] = uint8((s[1] + s[3]/2) / s[3])
				p[2] = uint8((s[2] + s[3]/2) / s[3])
				p[3] = uint8((s[3] + n/2) / n)
			}
		}
	})
}

// ycbcrToRGB is color.YCbCrToRGB's JFIF conversion, kept local so that it
// inlines in the hot loop.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	g := yy1 - 22554*cb1 - 46802*cr1
	b := yy1 + 116130*cb1
	return clamp16(r), clamp16(g), clamp16(b)
}

func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// parallel splits [0,n) into one contiguous range per CPU.
func parallel(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Go(func() { fn(lo, min(lo+chunk, n)) })
	}
	wg.Wait()
}

// getNRGBA returns a w×h image for boxShrink, its buffer recycled from an
// earlier photo when one is big enough.
func (p *Pipeline) getNRGBA(w, h int) *image.NRGBA {
	n := 4 * w * h
	var pix []byte
	if b, ok := p.pix.Get().(*[]byte); ok && cap(*b) >= n {
		pix = (*b)[:n]
	} else {
		pix = make([]byte, n)
	}
	return &image.NRGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
}

// putNRGBA gives m's buffer back for the next photo.
func (p *Pipeline) putNRGBA(m *image.NRGBA) {
	b := m.Pix[:0]
	p.pix.Put(&b)
}
