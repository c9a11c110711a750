package imagepipe

// Header is what Inspect learns of an image without decoding its pixels.
type Header struct {
	Format        string // one of the Format* names
	Width, Height int    // as declared (before EXIF orientation)
	Bytes         int    // input size
}

// Inspect checks data the way Prepare does before it decodes anything: the
// size cap, the format from the leading bytes, the dimensions from the
// header and the pixel cap. It costs microseconds, so a chat adapter or the
// session manager can refuse a bad photo at once and leave the decode to
// the session. Errors are *Error values, as from Prepare.
func Inspect(data []byte, opt Options) (Header, error) {
	opt = opt.withDefaults()
	n := int64(len(data))
	if n > opt.MaxInputBytes {
		e := newError(ErrTooLarge, "", n, nil)
		e.Limit = opt.MaxInputBytes
		return Header{}, e
	}
	format, ok := Sniff(data)
	if !ok {
		return Header{}, newError(ErrUnknownFormat, "", n, nil)
	}
	w, h, err := probe(format, data)
	if err != nil {
		return Header{}, classify(format, n, err)
	}
	if int64(w)*int64(h) > opt.MaxPixels {
		e := newError(ErrTooManyPixels, format, n, nil)
		e.Width, e.Height, e.Limit = w, h, opt.MaxPixels
		return Header{}, e
	}
	return Header{Format: format, Width: w, Height: h, Bytes: len(data)}, nil
}
