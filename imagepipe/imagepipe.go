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
	"log/slog"
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
