package imagepipe

import "testing"

// The grid files here (testdata/SOURCES.md) are laid out as a phone lays
// out its photos: a grid item over hidden tiles, cropped at the far edges.
func TestHEIFGridOf(t *testing.T) {
	tests := []struct {
		file string
		ops  []heifTransform
	}{
		{"grid.heic", nil},
		{"grid-irot1-imir0.heic", []heifTransform{{rotate: 1}, {mirror: true, axis: 0}}},
		{"grid-imir1.heic", []heifTransform{{mirror: true, axis: 1}}},
	}
	for _, tt := range tests {
		g, err := heifGridOf(readTestdata(t, tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if g.rows != 3 || g.cols != 4 || g.w != 200 || g.h != 150 || len(g.tiles) != 12 {
			t.Errorf("%s: grid %d×%d of %d tiles, %d×%d; want 3×4 of 12, 200×150", tt.file, g.rows, g.cols, len(g.tiles), g.w, g.h)
		}
		if len(g.ops) != len(tt.ops) {
			t.Fatalf("%s: transforms %+v, want %+v", tt.file, g.ops, tt.ops)
		}
		for i := range g.ops {
			if g.ops[i] != tt.ops[i] {
				t.Errorf("%s: transforms %+v, want %+v", tt.file, g.ops, tt.ops)
			}
		}
	}
	for _, f := range []string{"quadrants.heic", "alpha.heic"} {
		if _, err := heifGridOf(readTestdata(t, f)); err != errNotGrid {
			t.Errorf("%s (one image item): %v, want errNotGrid", f, err)
		}
	}
}

// A grid HEIC comes out upright with its quadrants where they belong, on
// both paths (the fast one shrinks it tile by tile).
func TestHEIFGridPrepare(t *testing.T) {
	rotated := quadrants{red, blue, green, yellow} // irot 1 then imir 0, as heif-convert shows it
	tests := []struct {
		file string
		want quadrants
		w, h int
	}{
		{"grid.heic", colourQuad, 80, 60},
		{"grid-irot1-imir0.heic", rotated, 60, 80},
		{"grid-imir1.heic", quadrants{green, red, yellow, blue}, 80, 60},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			opt := DefaultOptions()
			opt.MaxSide = 80
			res := prepareT(t, readTestdata(t, tt.file), opt)
			if res.Width != tt.w || res.Height != tt.h {
				t.Errorf("%dx%d, want %dx%d", res.Width, res.Height, tt.w, tt.h)
			}
			checkWithin(t, res, tt.want, 8)
		})
	}
}
