package imagepipe

import (
	"errors"
	"fmt"
)

// Sentinel kinds of failure. Check them with errors.Is; use errors.As with
// *Error (or the UserMessage function) for the sentence shown to a chat user.
var (
	// ErrTooLarge means the input file is larger than Options.MaxInputBytes.
	ErrTooLarge = errors.New("imagepipe: file too large")
	// ErrTooManyPixels means the header declares more than Options.MaxPixels pixels.
	ErrTooManyPixels = errors.New("imagepipe: too many pixels")
	// ErrUnknownFormat means the bytes are not an image format we decode.
	ErrUnknownFormat = errors.New("imagepipe: unknown image format")
	// ErrCorrupt means the file looked like an image but could not be decoded.
	ErrCorrupt = errors.New("imagepipe: corrupt or truncated image")
	// ErrCannotFit means no encoding fitted Options.MaxBytes.
	ErrCannotFit = errors.New("imagepipe: output does not fit the byte budget")
)

// Error is the typed error Prepare returns for a rejected or failed input.
// It wraps one of the sentinel kinds and, when there is one, the cause.
type Error struct {
	Kind          error  // one of the Err* sentinels
	Format        string // sniffed input format, when known
	Bytes         int64  // input size in bytes
	Width, Height int    // declared dimensions, when known
	Limit         int64  // the limit that was exceeded (bytes or pixels), when any
	Variant       string // a valid variant this build cannot decode ("an arithmetic-coded JPEG"), when known
	Err           error  // underlying cause, may be nil
}

func (e *Error) Error() string {
	msg := e.Kind.Error()
	switch {
	case errors.Is(e.Kind, ErrTooLarge):
		msg = fmt.Sprintf("%s: %d bytes > %d", msg, e.Bytes, e.Limit)
	case errors.Is(e.Kind, ErrTooManyPixels):
		msg = fmt.Sprintf("%s: %dx%d > %d pixels", msg, e.Width, e.Height, e.Limit)
	}
	if e.Format != "" {
		msg += " (" + e.Format + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// UserMessage is a short, kind sentence for a chat user; it never contains
// internal details.
func (e *Error) UserMessage() string {
	switch {
	case errors.Is(e.Kind, ErrTooLarge):
		return fmt.Sprintf("That file is too large (%s); please send a photo under %s.",
			humanBytes(e.Bytes), humanBytes(e.Limit))
	case errors.Is(e.Kind, ErrTooManyPixels):
		return fmt.Sprintf("That photo is too large (%s); please send one under %s.",
			megapixels(int64(e.Width)*int64(e.Height)), megapixels(e.Limit))
	case errors.Is(e.Kind, ErrUnknownFormat) && e.Variant != "":
		return "That photo is " + e.Variant + ", which I can't read; please send it as a JPEG or PNG (a screenshot of it works too)."
	case errors.Is(e.Kind, ErrUnknownFormat):
		return "I can't read that file as a photo; please send a JPEG, PNG, WebP, GIF, BMP, TIFF or HEIC image."
	case errors.Is(e.Kind, ErrCorrupt):
		return "That photo seems to be damaged or incomplete; could you send it again?"
	default:
		return "I couldn't prepare that photo; please try another one."
	}
}

// UserMessage returns the chat-user sentence for any error Prepare returned,
// and a generic kind sentence for any other error.
func UserMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.UserMessage()
	}
	return "I couldn't prepare that photo; please try another one."
}

func newError(kind error, format string, n int64, cause error) *Error {
	return &Error{Kind: kind, Format: format, Bytes: n, Err: cause}
}

func humanBytes(n int64) string {
	const mb = 1 << 20
	if n >= mb {
		return trimZero(fmt.Sprintf("%.1f", float64(n)/mb)) + " MB"
	}
	return fmt.Sprintf("%d KB", (n+1023)/1024)
}

func megapixels(n int64) string {
	if n < 100_000 {
		return fmt.Sprintf("%d pixels", n)
	}
	return trimZero(fmt.Sprintf("%.1f", float64(n)/1e6)) + " MP"
}

func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}
