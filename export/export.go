// Package export renders a whole session — its metadata and event log —
// as Markdown, JSON (schema in README.md) or one self-contained HTML page.
// It reads store.Event records only and never the engine's state, so what
// a transcript shows is what the engine logged. Model output is untrusted:
// HTML output escapes everything, Markdown quotes it.
package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// Formats Render accepts.
const (
	FormatMarkdown = "md"
	FormatJSON     = "json"
	FormatHTML     = "html"
)

// ErrFormat is returned for an unknown format.
var ErrFormat = errors.New("export: unknown format (want md, json or html)")

// Options tune Render.
type Options struct {
	// ImageLink, for Markdown, is called with each image the blob function
	// returned; it may save the bytes (e.g. next to the .md file) and returns
	// the link to write. Nil links images by blob name.
	ImageLink func(ref transcript.ImageRef, data []byte) (string, error)
}

// Render writes the session in format (md, json or html). blob returns a
// stored image by name; it may be nil, and an image it cannot return is
// shown as missing.
func Render(w io.Writer, format string, s store.Session, events []store.Event, blob func(name string) ([]byte, error)) error {
	return RenderWith(w, format, s, events, blob, Options{})
}

// RenderWith is Render with options.
func RenderWith(w io.Writer, format string, s store.Session, events []store.Event, blob func(name string) ([]byte, error), opts Options) error {
	if blob == nil {
		blob = func(string) ([]byte, error) { return nil, store.ErrNotFound }
	}
	d := build(s, events, blob)
	var err error
	switch strings.ToLower(format) {
	case FormatMarkdown, "markdown":
		err = renderMarkdown(w, d, opts)
	case FormatJSON:
		err = renderJSON(w, d)
	case FormatHTML:
		err = renderHTML(w, d)
	default:
		return fmt.Errorf("render %q: %w", format, ErrFormat)
	}
	if err != nil {
		return fmt.Errorf("render %s: %w", format, err)
	}
	return nil
}

// Ext returns the file extension of a format (".md", ".json", ".html").
func Ext(format string) string {
	if strings.ToLower(format) == "markdown" {
		return ".md"
	}
	return "." + strings.ToLower(format)
}

// decode reads an event's payload; a malformed payload reads as zero so one
// bad event never spoils a transcript.
func decode[T any](ev store.Event) T {
	var v T
	if len(ev.Data) > 0 {
		_ = json.Unmarshal(ev.Data, &v)
	}
	return v
}
