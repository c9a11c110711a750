//go:build !nodynamic

package imagepipe

import (
	"image"
	"testing"
)

// Shrunk tile by tile, a grid HEIC gives the pixels that the box pass gives
// on libheif's whole decode (its planes, with its rotation and mirroring),
// and the whole picture is never decoded.
func TestHEIFGridTilesMatchWholeDecode(t *testing.T) {
	if !testPipe.native.heif.load() {
		t.Skip("no system libheif")
	}
	for _, f := range []string{"grid.heic", "grid-irot1-imir0.heic", "grid-imir1.heic"} {
		data := readTestdata(t, f)
		const maxSide = 80
		tiled, rel, _, err := testPipe.native.decodeHEIFNative(data, maxSide, true)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if rel != nil {
			t.Fatalf("%s: the tile path holds nothing of libheif's, yet a release came back", f)
		}
		got, ok := tiled.(*image.NRGBA)
		if !ok {
			t.Fatalf("%s: %T, want the tile path's block-averaged *image.NRGBA", f, tiled)
		}

		whole, relWhole, _, err := testPipe.native.decodeHEIFNative(data, 0, false)
		if err != nil {
			t.Fatalf("%s (whole): %v", f, err)
		}
		b := whole.Bounds()
		dw, dh := fitSize(b.Dx(), b.Dy(), maxSide)
		k := blockFactor(b.Dx(), b.Dy(), dw, dh, 2)
		want := image.NewNRGBA(image.Rect(0, 0, (b.Dx()+k-1)/k, (b.Dy()+k-1)/k))
		boxNRGBA(whole.(*image.NRGBA), k, want, false)
		relWhole()
		if got.Rect != want.Rect {
			t.Fatalf("%s: tile path %v, whole decode %v", f, got.Rect, want.Rect)
		}
		// The whole decode went through libheif's RGB conversion, rounded
		// per pixel before averaging; the tile path averages the planes.
		worst := 0
		for i := range got.Pix {
			worst = max(worst, absDiff(got.Pix[i], want.Pix[i]))
		}
		if worst > 3 {
			t.Errorf("%s: tile path differs from the whole decode by up to %d", f, worst)
		}
	}
}
