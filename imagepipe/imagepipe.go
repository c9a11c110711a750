// Package imagepipe turns a photo as people send it (a phone JPEG with EXIF
// rotation, an iPhone HEIC, a PNG with transparency, WebP, GIF, BMP) into
// what a vision model should see: a small, upright JPEG (or PNG when the
// transparency matters) under a byte budget, with all metadata removed.
//
// It sniffs the format from the bytes, never the file name, and rejects
// oversized files, decompression bombs (by the dimensions in the header,
// before any pixel is allocated), unknown formats and corrupt files with a
// typed *Error that carries a sentence for a chat user. It never passes the
// original bytes on, does no I/O of its own and reads no environment.
package imagepipe

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"time"
)

// Options bound the work and the output. Zero fields take the defaults of
// DefaultOptions.
type Options struct {
	MaxSide       int   // longest side of the output in pixels (800)
	MaxBytes      int   // output size budget (1.5 MB)
	MaxInputBytes int64 // larger inputs are rejected unread (25 MB)
	MaxPixels     int64 // larger declared dimensions are rejected (50 MP)
	Quality       int   // first JPEG quality tried (85)
	// Logger receives a warning when a damaged file was decoded anyway
	// (slog.Default() when nil).
	Logger *slog.Logger
}

// DefaultOptions returns the limits used for chat photos.
func DefaultOptions() Options {
	return Options{
		MaxSide:       800,
		MaxBytes:      1_500_000,
		MaxInputBytes: 25 << 20,
		MaxPixels:     50_000_000,
		Quality:       85,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxSide <= 0 {
		o.MaxSide = d.MaxSide
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = d.MaxBytes
	}
	if o.MaxInputBytes <= 0 {
		o.MaxInputBytes = d.MaxInputBytes
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = d.MaxPixels
	}
	if o.Quality <= 0 || o.Quality > 100 {
		o.Quality = d.Quality
	}
	o.Quality = max(o.Quality, minQuality)
	return o
}

// Input describes the photo as it arrived.
type Input struct {
	Format      string `json:"format"`
	Width       int    `json:"width"` // as stored, before orientation
	Height      int    `json:"height"`
	Bytes       int    `json:"bytes"`
	Orientation int    `json:"orientation"` // EXIF 1–8; 1 when absent or applied by the decoder (HEIC)
}

// Result is the prepared image: what the vision model will receive.
type Result struct {
	Data     []byte        `json:"-"`
	MIME     string        `json:"mime"`
	Format   string        `json:"format"` // "jpeg" or "png"
	Width    int           `json:"width"`
	Height   int           `json:"height"`
	Bytes    int           `json:"bytes"`
	Quality  int           `json:"quality,omitempty"` // JPEG quality used
	Input    Input         `json:"input"`
	Warning  string        `json:"warning,omitempty"` // recoverable damage the decoder worked around
	Duration time.Duration `json:"-"`
	Millis   float64       `json:"ms"` // Duration in milliseconds, for the JSON report
}

// Prepare decodes data, applies its EXIF orientation, resizes it to fit
// opt.MaxSide and encodes it under opt.MaxBytes. Errors are *Error values
// (see ErrTooLarge, ErrTooManyPixels, ErrUnknownFormat, ErrCorrupt,
// ErrCannotFit) or the context's error.
func Prepare(ctx context.Context, data []byte, opt Options) (*Result, error) {
	start := time.Now()
	opt = opt.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := int64(len(data))
	if n > opt.MaxInputBytes {
		e := newError(ErrTooLarge, "", n, nil)
		e.Limit = opt.MaxInputBytes
		return nil, e
	}
	format, ok := Sniff(data)
	if !ok {
		return nil, newError(ErrUnknownFormat, "", n, nil)
	}
	w, h, err := probe(format, data)
	if err != nil {
		return nil, classify(format, n, err)
	}
	if int64(w)*int64(h) > opt.MaxPixels {
		e := newError(ErrTooManyPixels, format, n, nil)
		e.Width, e.Height, e.Limit = w, h, opt.MaxPixels
		return nil, e
	}
	in := Input{Format: format, Width: w, Height: h, Bytes: len(data), Orientation: orientation(format, data)}

	small, warn, err := decodeSmall(ctx, format, data, w, h, opt)
	if err != nil {
		return nil, err
	}
	small = orient(small, in.Orientation)
	if warn != "" {
		logger := opt.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("imagepipe: damaged image decoded anyway", "format", format, "bytes", n, "warning", warn)
	}
	out, err := encode(small, opt)
	if errors.Is(err, ErrCannotFit) {
		return nil, newError(ErrCannotFit, format, n, nil)
	} else if err != nil {
		return nil, newError(ErrCannotFit, format, n, err)
	}
	b := out.img.Bounds()
	res := &Result{
		Data:    out.data,
		MIME:    "image/" + out.format,
		Format:  out.format,
		Width:   b.Dx(),
		Height:  b.Dy(),
		Bytes:   len(out.data),
		Quality: out.quality,
		Input:   in,
		Warning: warn,
	}
	res.Duration = time.Since(start)
	res.Millis = math.Round(res.Duration.Seconds()*1e4) / 10
	return res, nil
}

// decodeSmall decodes data and shrinks it to fit opt.MaxSide (before
// orientation); the full-size pixels are let go before it returns.
func decodeSmall(ctx context.Context, format string, data []byte, w, h int, opt Options) (*image.NRGBA, string, error) {
	n := int64(len(data))
	d, err := decode(format, data, w, h, opt.MaxSide)
	if d.release != nil {
		defer d.release()
	}
	if err != nil {
		return nil, "", classify(format, n, err)
	}
	if b := d.img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > opt.MaxPixels {
		return nil, "", newError(ErrCorrupt, format, n, nil)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	small := shrink(d.img, opt.MaxSide)
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	return small, d.warn, nil
}

// PrepareBatch prepares several photos with at most concurrency in flight
// (GOMAXPROCS when concurrency ≤ 0). results[i] and errs[i] belong to
// inputs[i]; inputs not started before ctx ends get ctx's error.
func PrepareBatch(ctx context.Context, inputs [][]byte, opt Options, concurrency int) ([]*Result, []error) {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	results := make([]*Result, len(inputs))
	errs := make([]error, len(inputs))
	g := NewGate(concurrency)
	var wg sync.WaitGroup
	for i, data := range inputs {
		if err := g.acquire(ctx); err != nil {
			errs[i] = err
			continue
		}
		wg.Go(func() {
			defer g.release()
			results[i], errs[i] = Prepare(ctx, data, opt)
		})
	}
	wg.Wait()
	return results, errs
}
