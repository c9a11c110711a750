package imagepipe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Format names reported in Result and by Sniff.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatGIF  = "gif"
	FormatWebP = "webp"
	FormatBMP  = "bmp"
	FormatHEIC = "heic"
	FormatTIFF = "tiff"
)

// Sniff reports the image format of data from its leading bytes, never from
// a file name. ok is false for anything Prepare would reject as unknown.
func Sniff(data []byte) (format string, ok bool) {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return FormatJPEG, true
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG, true
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatGIF, true
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP, true
	case isBMP(data):
		return FormatBMP, true
	case isHEIC(data):
		return FormatHEIC, true
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return FormatTIFF, true
	}
	return "", false
}

// isBMP checks the "BM" magic and a known DIB header size, since two bytes
// alone match too much text.
func isBMP(data []byte) bool {
	if len(data) < 26 || data[0] != 'B' || data[1] != 'M' {
		return false
	}
	switch binary.LittleEndian.Uint32(data[14:18]) {
	case 12, 40, 52, 56, 108, 124:
		return true
	}
	return false
}

// isHEIC accepts an ISO-BMFF "ftyp" box naming an HEVC-coded HEIF brand
// (or a generic HEIF brand without an AVIF one, which we cannot decode).
func isHEIC(data []byte) bool {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return false
	}
	size := int(binary.BigEndian.Uint32(data[:4]))
	if size < 16 || size > len(data) {
		size = min(len(data), 64)
	}
	brands := []string{string(data[8:12])}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(data[i:i+4]))
	}
	generic := false
	for _, b := range brands {
		switch b {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs":
			return true
		case "avif", "avis":
			return false
		case "mif1", "msf1":
			generic = true
		}
	}
	return generic
}

// probe reads the dimensions from the header only, so that Prepare can
// reject decompression bombs before allocating any pixels.
func probe(format string, data []byte) (w, h int, err error) {
	r := bytes.NewReader(data)
	var cfg image.Config
	switch format {
	case FormatJPEG:
		// Our own SOFn walk: image/jpeg's refuses arithmetic-coded frames,
		// which libjpeg-turbo decodes.
		if w, h, _, ok := jpegFrame(data); ok && w > 0 && h > 0 {
			return w, h, nil
		}
		cfg, err = jpeg.DecodeConfig(r)
	case FormatPNG:
		cfg, err = png.DecodeConfig(r)
	case FormatGIF:
		cfg, err = gif.DecodeConfig(r)
	case FormatWebP:
		cfg, err = webp.DecodeConfig(r)
	case FormatBMP:
		if cfg, err = bmp.DecodeConfig(r); errors.Is(err, bmp.ErrUnsupported) && isRLEBMP(data) {
			err = &variantError{"an RLE-compressed BMP", err}
		}
	case FormatTIFF:
		cfg, err = tiff.DecodeConfig(r)
	case FormatHEIC:
		w, h, err = heifSize(data)
		return w, h, err
	default:
		return 0, 0, ErrUnknownFormat
	}
	if err != nil {
		return 0, 0, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, errors.New("zero image dimensions")
	}
	return cfg.Width, cfg.Height, nil
}

var errNoISPE = errors.New("heif: no image size property")

// heifSize walks meta/iprp/ipco and returns the largest "ispe" (image
// spatial extents) property. The primary image's ispe is the largest one
// (tiles and thumbnails are smaller), so this is a safe bound without
// starting the HEVC decoder.
func heifSize(data []byte) (w, h int, err error) {
	meta := findBox(data, "meta")
	if len(meta) < 4 {
		return 0, 0, errNoISPE
	}
	ipco := findBox(findBox(meta[4:], "iprp"), "ipco")
	best := int64(-1)
	for rest := ipco; len(rest) >= 8; {
		typ, body, next := nextBox(rest)
		if body == nil {
			break
		}
		if typ == "ispe" && len(body) >= 12 {
			bw := int64(binary.BigEndian.Uint32(body[4:8]))
			bh := int64(binary.BigEndian.Uint32(body[8:12]))
			if bw*bh > best {
				best, w, h = bw*bh, int(bw), int(bh)
			}
		}
		rest = next
	}
	if best <= 0 {
		return 0, 0, errNoISPE
	}
	return w, h, nil
}

// findBox returns the body of the first box of the given type in data.
func findBox(data []byte, want string) []byte {
	for rest := data; len(rest) >= 8; {
		typ, body, next := nextBox(rest)
		if body == nil {
			return nil
		}
		if typ == want {
			return body
		}
		rest = next
	}
	return nil
}

// nextBox splits one ISO-BMFF box off data; body is nil when the box is
// malformed.
func nextBox(data []byte) (typ string, body, next []byte) {
	size := uint64(binary.BigEndian.Uint32(data[:4]))
	typ = string(data[4:8])
	hdr := uint64(8)
	switch size {
	case 0:
		size = uint64(len(data))
	case 1:
		if len(data) < 16 {
			return typ, nil, nil
		}
		size, hdr = binary.BigEndian.Uint64(data[8:16]), 16
	}
	if size < hdr || size > uint64(len(data)) {
		return typ, nil, nil
	}
	return typ, data[hdr:size], data[size:]
}
