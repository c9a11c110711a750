package imagepipe

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"
)

// Resampled plane by plane, a YCbCr picture comes out as imaging's linear
// resample of its RGB conversion does, within the rounding of chroma taken
// at its own resolution.
func TestResizeYCbCrMatchesImaging(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio444} {
		const w, h, dw, dh = 253, 190, 200, 150
		m := image.NewYCbCr(image.Rect(0, 0, w, h), ratio)
		// A smooth picture with noise: what a photo's planes look like.
		for y := range h {
			for x := range w {
				m.Y[y*m.YStride+x] = uint8(x*200/w + rng.IntN(40))
			}
		}
		hx, vy := chromaFactors(ratio)
		for cy := range (h + vy - 1) / vy {
			for cx := range (w + hx - 1) / hx {
				i := cy*m.CStride + cx
				m.Cb[i] = uint8(100 + cx*hx*60/w + rng.IntN(6))
				m.Cr[i] = uint8(160 - cy*vy*50/h + rng.IntN(6))
			}
		}
		got := resizeYCbCr(m, dw, dh)
		want := imaging.Resize(m, dw, dh, imaging.Linear)
		if got.Rect != want.Rect {
			t.Fatalf("%v: %v, want %v", ratio, got.Rect, want.Rect)
		}
		var sum, worst int
		for i := range got.Pix {
			d := absDiff(got.Pix[i], want.Pix[i])
			sum += d
			worst = max(worst, d)
		}
		if mean := float64(sum) / float64(len(got.Pix)); mean > 1.5 || worst > 40 {
			t.Errorf("%v: mean |diff| %.2f, worst %d against imaging.Resize", ratio, mean, worst)
		}
	}
	// Grayscale: the one plane, exactly as imaging resamples the gray picture.
	g := image.NewGray(image.Rect(0, 0, 101, 77))
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	p, _ := planesOf(g)
	got, want := resizeYCbCr(p, 60, 46), imaging.Resize(g, 60, 46, imaging.Linear)
	for i := range got.Pix {
		if d := absDiff(got.Pix[i], want.Pix[i]); d > 1 {
			t.Fatalf("gray: byte %d differs by %d from imaging.Resize", i, d)
		}
	}
}
