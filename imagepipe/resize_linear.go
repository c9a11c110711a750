package imagepipe

import (
	"image"
	"math"
)

// The final resample of opaque images: a separable linear (tent) filter in
// 14-bit fixed point with an 8-bit intermediate, as PIL resamples, the
// same weights as imaging.Linear. imaging's float64 version took ~20 ms of
// CPU for 1008×756 → 800×600, a fifth of a cold 12 MP JPEG run; this
// takes a few. Images with transparency keep imaging (it weights colour
// by alpha).

const tapBits = 14

// taps is one output sample's source range and fixed-point weights.
type taps struct {
	lo int
	w  []int32
}

// linearTaps returns the tent-filter taps for resampling n source samples
// to m (m ≤ n or not: the support never drops below one source sample).
func linearTaps(n, m int) []taps {
	scale := float64(n) / float64(m)
	support := max(scale, 1)
	out := make([]taps, m)
	for i := range out {
		center := (float64(i) + 0.5) * scale
		lo := max(0, int(math.Floor(center-support)))
		hi := min(n, int(math.Ceil(center+support)))
		fw := make([]float64, 0, hi-lo)
		var sum float64
		for j := lo; j < hi; j++ {
			v := 1 - math.Abs(float64(j)+0.5-center)/support
			v = max(v, 0)
			fw = append(fw, v)
			sum += v
		}
		w := make([]int32, len(fw))
		var isum int32
		for j, v := range fw {
			w[j] = int32(math.Round(v / sum * (1 << tapBits)))
			isum += w[j]
		}
		// Put the rounding remainder on the largest weight, so a flat
		// area stays exactly flat.
		big := 0
		for j := range w {
			if w[j] > w[big] {
				big = j
			}
		}
		if len(w) > 0 {
			w[big] += 1<<tapBits - isum
		}
		out[i] = taps{lo: lo, w: w}
	}
	return out
}

// resizeOpaque resamples the 4-byte pixels of src (RGBA or NRGBA, every
// alpha 255, bounds at any origin) to dw×dh.
func resizeOpaque(pix []uint8, stride int, sw, sh, dw, dh int) *image.NRGBA {
	xt := linearTaps(sw, dw)
	yt := linearTaps(sh, dh)
	// Horizontal pass: sh rows of dw pixels.
	mid := make([]uint8, 4*dw*sh)
	parallel(sh, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			row := pix[y*stride:]
			out := mid[4*dw*y : 4*dw*(y+1)]
			for x, t := range xt {
				var r, g, b int32
				p := row[4*t.lo:]
				for j, w := range t.w {
					q := p[4*j : 4*j+3 : 4*j+3]
					r += w * int32(q[0])
					g += w * int32(q[1])
					b += w * int32(q[2])
				}
				o := out[4*x : 4*x+4 : 4*x+4]
				o[0], o[1], o[2], o[3] = clampTap(r), clampTap(g), clampTap(b), 0xFF
			}
		}
	})
	// Vertical pass.
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	rowLen := 4 * dw
	parallel(dh, func(lo, hi int) {
		acc := make([]int32, rowLen)
		for y := lo; y < hi; y++ {
			t := yt[y]
			clear(acc)
			for j, w := range t.w {
				src := mid[(t.lo+j)*rowLen : (t.lo+j+1)*rowLen]
				for i, v := range src {
					acc[i] += w * int32(v)
				}
			}
			out := dst.Pix[y*dst.Stride : y*dst.Stride+rowLen]
			for i, v := range acc {
				out[i] = clampTap(v)
			}
		}
	})
	return dst
}

func clampTap(v int32) uint8 {
	v = (v + 1<<(tapBits-1)) >> tapBits
	return uint8(min(max(v, 0), 255))
}

// opaquePix returns the 4-byte pixels of img when it is an RGBA or NRGBA
// image with no transparent or translucent pixel, else ok is false.
func opaquePix(img image.Image) (pix []uint8, stride int, ok bool) {
	var r image.Rectangle
	switch m := img.(type) {
	case *image.RGBA:
		pix, stride, r = m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, m.Rect
	case *image.NRGBA:
		pix, stride, r = m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, m.Rect
	default:
		return nil, 0, false
	}
	for y := range r.Dy() {
		row := pix[y*stride : y*stride+4*r.Dx()]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xFF {
				return nil, 0, false
			}
		}
	}
	return pix, stride, true
}

// ycbcrToNRGBA converts a YCbCr or Gray image to NRGBA in parallel.
func ycbcrToNRGBA(img image.Image) (*image.NRGBA, bool) {
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch m := img.(type) {
	case *image.YCbCr:
		parallel(b.Dy(), func(lo, hi int) {
			for y := lo; y < hi; y++ {
				out := dst.Pix[y*dst.Stride:]
				for x := range b.Dx() {
					yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
					ci := m.COffset(b.Min.X+x, b.Min.Y+y)
					r, g, bb := ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
					o := out[4*x : 4*x+4 : 4*x+4]
					o[0], o[1], o[2], o[3] = r, g, bb, 0xFF
				}
			}
		})
	case *image.Gray:
		parallel(b.Dy(), func(lo, hi int) {
			for y := lo; y < hi; y++ {
				out := dst.Pix[y*dst.Stride:]
				in := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
				for x := range b.Dx() {
					v := in[x]
					o := out[4*x : 4*x+4 : 4*x+4]
					o[0], o[1], o[2], o[3] = v, v, v, 0xFF
				}
			}
		})
	default:
		return nil, false
	}
	return dst, true
}
