package imagepipe

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/disintegration/imaging"
)

// The fixed-point resampler gives imaging.Linear's result to within
// rounding, for reductions, enlargements of one axis and odd sizes.
func TestResizeOpaqueMatchesImagingLinear(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 1009, 757))
	seed := uint32(1)
	for y := range 757 {
		for x := range 1009 {
			seed = seed*1664525 + 1013904223
			n := uint8(seed >> 27)
			src.SetNRGBA(x, y, color.NRGBA{uint8(x/4) + n, uint8(y / 3), uint8((x + y) % 256), 0xFF})
		}
	}
	for _, sz := range [][2]int{{800, 600}, {400, 757}, {1009, 300}, {97, 61}} {
		got := resizeOpaque(src.Pix, src.Stride, 1009, 757, sz[0], sz[1])
		want := imaging.Resize(src, sz[0], sz[1], imaging.Linear)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%v: bounds %v, want %v", sz, got.Bounds(), want.Bounds())
		}
		var sum, worst float64
		for i := range got.Pix {
			d := math.Abs(float64(got.Pix[i]) - float64(want.Pix[i]))
			sum += d
			worst = max(worst, d)
		}
		mean := sum / float64(len(got.Pix))
		t.Logf("%v: mean |diff| %.3f, max %.0f", sz, mean, worst)
		if mean > 0.6 || worst > 3 {
			t.Errorf("%v: mean |diff| %.3f (≤ 0.6), max %.0f (≤ 3) against imaging.Linear", sz, mean, worst)
		}
	}
}

func TestResizeOpaqueKeepsFlat(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 333, 222))
	for i := range src.Pix {
		src.Pix[i] = []uint8{17, 200, 255, 255}[i%4]
	}
	got := resizeOpaque(src.Pix, src.Stride, 333, 222, 100, 71)
	for i, v := range got.Pix {
		if want := []uint8{17, 200, 255, 255}[i%4]; v != want {
			t.Fatalf("flat image: byte %d = %d, want %d", i, v, want)
		}
	}
}

func TestOpaquePix(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range m.Pix {
		m.Pix[i] = 0xFF
	}
	if _, _, ok := opaquePix(m); !ok {
		t.Fatal("opaque NRGBA reported transparent")
	}
	m.Pix[4*5+3] = 0x80
	if _, _, ok := opaquePix(m); ok {
		t.Fatal("NRGBA with a translucent pixel reported opaque")
	}
	if _, _, ok := opaquePix(image.NewGray(m.Rect)); ok {
		t.Fatal("Gray taken as 4-byte pixels")
	}
}
