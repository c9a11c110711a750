package imagepipe

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// corpusDir is ../../shared/corpus/images from this package (the shared
// folder beside the repository) unless IMAGEPIPE_CORPUS names another.
func corpusDir() string {
	if d := os.Getenv("IMAGEPIPE_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "corpus", "images")
}

// BenchmarkPrepare prepares every corpus file with the default options and
// reports the output bytes and dimensions next to ms/op:
//
//	go test -run '^$' -bench Prepare -benchtime 20x ./imagepipe
func BenchmarkPrepare(b *testing.B) {
	dir := corpusDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Skipf("no image corpus at %s (set IMAGEPIPE_CORPUS): %v", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	ctx := context.Background()
	opt := DefaultOptions()
	// Warm the HEIC decoder once, as a long-running bot would be.
	for _, name := range names {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			if f, _ := Sniff(data); f == FormatHEIC {
				_, _ = Prepare(ctx, data, opt)
				break
			}
		}
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			var res *Result
			for b.Loop() {
				if res, err = Prepare(ctx, data, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			b.ReportMetric(float64(res.Bytes), "out-bytes")
			b.ReportMetric(float64(res.Width), "out-w")
			b.ReportMetric(float64(res.Height), "out-h")
		})
	}
}
