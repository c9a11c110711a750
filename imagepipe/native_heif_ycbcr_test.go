//go:build !nodynamic

package imagepipe

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Where an HEIC is taken as 4:2:0 planes, the planes converted as
// boxYCbCr converts them give libheif's own RGBA conversion's pixels:
// the plane path's colour assumption holds for these files (among them
// one without a declared nclx colour, whose default it relies on).
func TestHEIFYCbCrMatchesRGBA(t *testing.T) {
	if !testPipe.native.heif.load() {
		t.Skip("no system libheif")
	}
	files, _ := filepath.Glob("testdata/*.heic")
	files = append(files, filepath.Join(corpusDir(), "photo-1920x1280.heic"))
	used := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		a, relA, _, err := testPipe.native.decodeHEIFNative(data, 0, true)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		_, planes := a.(*image.YCbCr)
		if !planes {
			relA()
			continue
		}
		used++
		b, relB, _, err := testPipe.native.decodeHEIFNative(data, 0, false)
		if err != nil {
			t.Fatalf("%s (RGBA): %v", f, err)
		}
		if _, rgba := b.(*image.YCbCr); rgba {
			t.Fatalf("%s: RGBA asked for, planes given", f)
		}
		if a.Bounds() != b.Bounds() {
			t.Fatalf("%s: planes %v, RGBA %v", f, a.Bounds(), b.Bounds())
		}
		var sum float64
		r := a.Bounds()
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				p := a.(*image.YCbCr).YCbCrAt(x, y)
				rr, gg, bb := ycbcrToRGB(p.Y, p.Cb, p.Cr)
				q := color.NRGBAModel.Convert(b.At(x, y)).(color.NRGBA)
				sum += math.Abs(float64(rr)-float64(q.R)) + math.Abs(float64(gg)-float64(q.G)) + math.Abs(float64(bb)-float64(q.B))
			}
		}
		mean := sum / float64(3*r.Dx()*r.Dy())
		t.Logf("%s: planes vs libheif %T: mean |diff| %.3f", filepath.Base(f), b, mean)
		if mean > 1.5 {
			t.Errorf("%s: planes differ from libheif's RGBA by %.2f on average", f, mean)
		}
		relA()
		relB()
	}
	if used == 0 {
		t.Fatal("no test HEIC took the plane path")
	}
}
