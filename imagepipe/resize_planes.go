package imagepipe

import (
	"image"
	"math"
)

// A photo decoded as YCbCr planes (libjpeg-turbo's and jpegscale's scaled
// JPEG decode) that needs no box pass is resampled plane by plane, 1.5
// samples a pixel for 4:2:0 instead of the 4 of an RGBA resample, and
// converted to RGB only at the output size.

// tap is one source sample's weight in an output sample.
type tap struct {
	i int
	w float32
}

// linearTaps returns, for each of dst output samples, the source samples
// of a src-long line and their weights under the linear (tent) filter,
// widened by the reduction as imaging.Linear is.
func linearTaps(dst, src int) [][]tap {
	du := float64(src) / float64(dst)
	scale := max(du, 1)
	ru := math.Ceil(scale)
	out := make([][]tap, dst)
	for v := range out {
		fu := (float64(v)+0.5)*du - 0.5
		lo, hi := max(0, int(math.Ceil(fu-ru))), min(src-1, int(math.Floor(fu+ru)))
		var sum float64
		taps := make([]tap, 0, hi-lo+1)
		for u := lo; u <= hi; u++ {
			if w := 1 - math.Abs(float64(u)-fu)/scale; w > 0 {
				taps = append(taps, tap{u, float32(w)})
				sum += w
			}
		}
		for i := range taps {
			taps[i].w /= float32(sum)
		}
		out[v] = taps
	}
	return out
}

// resizePlane resamples the sw×sh plane src (rows stride apart) to dw×dh,
// horizontally then vertically.
func resizePlane(src []uint8, stride, sw, sh, dw, dh int) []uint8 {
	xt, yt := linearTaps(dw, sw), linearTaps(dh, sh)
	mid := make([]float32, dw*sh)
	parallel(sh, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			row := src[y*stride : y*stride+sw]
			out := mid[y*dw : y*dw+dw]
			for x, taps := range xt {
				var s float32
				for _, t := range taps {
					s += float32(row[t.i]) * t.w
				}
				out[x] = s
			}
		}
	})
	dst := make([]uint8, dw*dh)
	parallel(dh, func(lo, hi int) {
		acc := make([]float32, dw)
		for y := lo; y < hi; y++ {
			clear(acc)
			for _, t := range yt[y] {
				row := mid[t.i*dw : t.i*dw+dw]
				for x, v := range row {
					acc[x] += v * t.w
				}
			}
			out := dst[y*dw : y*dw+dw]
			for x, v := range acc {
				out[x] = uint8(min(255, max(0, v+0.5)))
			}
		}
	})
	return dst
}

// resizeYCbCr resamples m to dw×dh plane by plane and converts it to RGB.
// The chroma planes are resampled to their share of dw×dh (half of it each
// way for 4:2:0), and each output pixel takes its chroma sample, as
// image.YCbCr's At does.
func resizeYCbCr(m *image.YCbCr, dw, dh int) *image.NRGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	hx, vy := chromaFactors(m.SubsampleRatio)
	cw, ch := (w+hx-1)/hx, (h+vy-1)/vy
	dcw, dch := (dw+hx-1)/hx, (dh+vy-1)/vy
	y := resizePlane(m.Y, m.YStride, w, h, dw, dh)
	var cb, cr []uint8
	if m.Cb != nil {
		cb = resizePlane(m.Cb, m.CStride, cw, ch, dcw, dch)
		cr = resizePlane(m.Cr, m.CStride, cw, ch, dcw, dch)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	parallel(dh, func(lo, hi int) {
		for oy := lo; oy < hi; oy++ {
			out := dst.Pix[oy*dst.Stride : oy*dst.Stride+4*dw]
			yr := y[oy*dw : oy*dw+dw]
			crow := oy / vy * dcw
			for x, yy := range yr {
				r, g, b := yy, yy, yy
				if cb != nil {
					r, g, b = ycbcrToRGB(yy, cb[crow+x/hx], cr[crow+x/hx])
				}
				p := out[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2], p[3] = r, g, b, 0xFF
			}
		}
	})
	return dst
}
