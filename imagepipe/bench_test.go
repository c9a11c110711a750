package imagepipe

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// BenchmarkPrepare prepares every corpus file, and the files listed in
// IMAGEPIPE_BENCH_EXTRA (separated by ':'), with the default options and
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
			names = append(names, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(names)
	if extra := os.Getenv("IMAGEPIPE_BENCH_EXTRA"); extra != "" {
		names = append(names, strings.Split(extra, ":")...)
	}
	ctx := context.Background()
	opt := DefaultOptions()
	// Warm the HEIC decoder once, as a long-running bot would be.
	for _, name := range names {
		if data, err := os.ReadFile(name); err == nil {
			if f, _ := Sniff(data); f == FormatHEIC {
				_, _ = testPipe.Prepare(ctx, data, opt)
				break
			}
		}
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			var res *Result
			for b.Loop() {
				if res, err = testPipe.Prepare(ctx, data, opt); err != nil {
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
