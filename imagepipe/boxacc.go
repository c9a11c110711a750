package imagepipe

import "image"

// boxAcc is boxYCbCr fed piece by piece: it sums the 4:2:0 planes of a
// w×h picture into k×k blocks as the picture's tiles arrive, in any order,
// so that a tiled HEIC is shrunk without its full-size planes ever
// existing. finish gives the same pixels boxYCbCr gives on the whole
// picture.
type boxAcc struct {
	w, h, k   int
	dw, dh    int
	y, cb, cr []uint32 // sums per output pixel
}

// newBoxAcc sums a w×h 4:2:0 picture in k×k blocks; k is even.
func newBoxAcc(w, h, k int) *boxAcc {
	dw, dh := (w+k-1)/k, (h+k-1)/k
	return &boxAcc{w: w, h: h, k: k, dw: dw, dh: dh,
		y: make([]uint32, dw*dh), cb: make([]uint32, dw*dh), cr: make([]uint32, dw*dh)}
}

// add sums tile t (4:2:0, even width and height, origin at 0,0), placed at
// (x0, y0) of the picture (both even); what falls outside w×h is cropped.
func (a *boxAcc) add(t *image.YCbCr, x0, y0 int) {
	tw := min(t.Rect.Dx(), a.w-x0)
	th := min(t.Rect.Dy(), a.h-y0)
	if tw <= 0 || th <= 0 {
		return
	}
	for y := range th {
		addSpan(a.y[(y0+y)/a.k*a.dw:], t.Y[y*t.YStride:y*t.YStride+tw], x0, a.k)
	}
	kc := a.k / 2
	cw, ch := (x0+tw+1)/2-x0/2, (y0+th+1)/2-y0/2
	for cy := range ch {
		row := (y0/2 + cy) / kc * a.dw
		off := cy * t.CStride
		addSpan(a.cb[row:], t.Cb[off:off+cw], x0/2, kc)
		addSpan(a.cr[row:], t.Cr[off:off+cw], x0/2, kc)
	}
}

// addSpan adds the samples of src, which start at column x0, to acc's
// k-wide blocks.
func addSpan(acc []uint32, src []uint8, x0, k int) {
	ox := x0 / k
	next := (ox+1)*k - x0 // index in src where the next block starts
	var s uint32
	for i, v := range src {
		if i == next {
			acc[ox] += s
			s, ox, next = 0, ox+1, next+k
		}
		s += uint32(v)
	}
	acc[ox] += s
}

// finish averages the sums into dst (dw×dh) as boxYCbCr does.
func (a *boxAcc) finish(dst *image.NRGBA) {
	k, kc := a.k, a.k/2
	cw, ch := (a.w+1)/2, (a.h+1)/2
	for oy := range a.dh {
		rows := min(k, a.h-oy*k)
		crows := min(kc, ch-oy*kc)
		out := dst.Pix[oy*dst.Stride : oy*dst.Stride+4*a.dw]
		for i := range a.dw {
			n := uint32(min(k, a.w-i*k) * rows)
			nc := uint32(min(kc, cw-i*kc) * crows)
			j := oy*a.dw + i
			r, g, b := ycbcrToRGB(uint8((a.y[j]+n/2)/n), uint8((a.cb[j]+nc/2)/nc), uint8((a.cr[j]+nc/2)/nc))
			p := out[4*i : 4*i+4 : 4*i+4]
			p[0], p[1], p[2], p[3] = r, g, b, 0xFF
		}
	}
}
