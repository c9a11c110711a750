package imagepipe

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tableround/tableround/imagepipe/internal/jpegscale"
)

func jpegscaleFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("internal", "jpegscale", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Progressive files take the scaled pure-Go decoder on both paths, so they
// come out at the reduced size (203×149 at 1/4: 51×38).
func TestProgressiveDecodedScaled(t *testing.T) {
	for _, name := range []string{"prog420.jpg", "prog444.jpg", "proggray.jpg"} {
		d, err := testPipe.decode(FormatJPEG, jpegscaleFile(t, name), 203, 149, 50)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := d.img.Bounds(); got != image.Rect(0, 0, 51, 38) {
			t.Errorf("%s: decoded at %v, want 51×38 (1/4 scale)", name, got)
		}
	}
}

// Where libjpeg-turbo is loaded, it and jpegscale decode the same file at
// the same scale to nearly the same luma. (Chroma differs by design:
// libjpeg-turbo inverse-transforms subsampled chroma straight to the luma
// resolution, jpegscale at the chroma resolution and upsamples; and its
// reduced transforms also read some higher odd frequencies.)
func TestScaledDecodersAgree(t *testing.T) {
	for _, name := range []string{"base420-rst.jpg", "base422.jpg", "prog444.jpg"} {
		data := jpegscaleFile(t, name)
		for _, maxSide := range []int{26, 50, 100} {
			turbo, _, ok := testPipe.native.decodeJPEGTurbo(data, maxSide)
			if !ok {
				t.Skip("libjpeg-turbo not loaded (pure-Go build or library missing)")
			}
			ours, err := jpegscale.Decode(bytes.NewReader(data), maxSide)
			if err != nil {
				t.Fatal(err)
			}
			if turbo.Bounds() != ours.Bounds() {
				t.Fatalf("%s @%d: bounds %v vs libjpeg-turbo %v", name, maxSide, ours.Bounds(), turbo.Bounds())
			}
			mean := meanAbsLuma(turbo, ours)
			t.Logf("%s @%d: mean |diff| %.2f", name, maxSide, mean)
			if mean > 2.5 {
				t.Errorf("%s @%d: mean luma |diff| %.2f against libjpeg-turbo, want ≤ 2.5", name, maxSide, mean)
			}
		}
	}
}

func meanAbsLuma(a, b image.Image) float64 {
	r := a.Bounds()
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := color.GrayModel.Convert(a.At(x, y)).(color.Gray)
			q := color.GrayModel.Convert(b.At(x, y)).(color.Gray)
			sum += math.Abs(float64(p.Y) - float64(q.Y))
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}
