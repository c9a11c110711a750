package imagepipe

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"
)

// A picture summed tile by tile gives boxYCbCr's pixels on the whole
// picture, for block factors that do and do not divide the tile size and
// a picture whose last tiles are cropped.
func TestBoxAccMatchesBoxYCbCr(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h, tile = 203, 149, 32
	full := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for _, p := range [][]uint8{full.Y, full.Cb, full.Cr} {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	for _, k := range []int{2, 4, 6, 10} {
		want := image.NewNRGBA(image.Rect(0, 0, (w+k-1)/k, (h+k-1)/k))
		boxYCbCr(full, k, want)

		acc := newBoxAcc(w, h, k)
		// Tiles arrive in reverse order, as parallel decoding may deliver them.
		for ty := (h+tile-1)/tile - 1; ty >= 0; ty-- {
			for tx := (w+tile-1)/tile - 1; tx >= 0; tx-- {
				acc.add(tileOf(full, tx*tile, ty*tile, tile), tx*tile, ty*tile)
			}
		}
		got := image.NewNRGBA(want.Rect)
		acc.finish(got)
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("k=%d: tile-by-tile sums differ from boxYCbCr", k)
		}
	}
}

// tileOf copies the size×size tile at (x0, y0) of m into a fresh 4:2:0
// image, repeating the edge past m's bounds as an encoder pads tiles.
func tileOf(m *image.YCbCr, x0, y0, size int) *image.YCbCr {
	t := image.NewYCbCr(image.Rect(0, 0, size, size), image.YCbCrSubsampleRatio420)
	w, h := m.Rect.Dx(), m.Rect.Dy()
	for y := range size {
		for x := range size {
			t.Y[y*t.YStride+x] = m.Y[min(y0+y, h-1)*m.YStride+min(x0+x, w-1)]
		}
	}
	for y := range size / 2 {
		for x := range size / 2 {
			sy, sx := min(y0/2+y, (h+1)/2-1), min(x0/2+x, (w+1)/2-1)
			t.Cb[y*t.CStride+x] = m.Cb[sy*m.CStride+sx]
			t.Cr[y*t.CStride+x] = m.Cr[sy*m.CStride+sx]
		}
	}
	return t
}
