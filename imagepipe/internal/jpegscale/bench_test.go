package jpegscale

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCorpus decodes the shared corpus's large JPEGs for an 800 px
// target with this decoder and, for comparison, full size with image/jpeg:
//
//	go test -run '^$' -bench Corpus ./imagepipe/internal/jpegscale
func BenchmarkCorpus(b *testing.B) {
	dir := os.Getenv("IMAGEPIPE_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "corpus", "images")
	}
	for _, name := range []string{"phone-4032x3024.jpg", "photo-3840x2400.jpg"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Skipf("corpus not found (%v); set IMAGEPIPE_CORPUS", err)
		}
		b.Run(name+"/scaled", func(b *testing.B) {
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(data), 800); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/image-jpeg", func(b *testing.B) {
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
