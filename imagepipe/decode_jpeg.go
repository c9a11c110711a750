package imagepipe

import (
	"bytes"
	"errors"
	"image/jpeg"

	"github.com/tableround/tableround/imagepipe/internal/jpegscale"
)

// sof2 is the frame marker of a progressive Huffman-coded JPEG.
const sof2 = 0xC2

// decodeJPEG decodes a JPEG at the DCT scale that covers maxSide, by
// measurement (imagepipe/README.md):
//   - baseline and arithmetic-coded files: libjpeg-turbo, when loaded; it
//     streams them at the reduced size;
//   - progressive files, and everything on the pure-Go path: jpegscale,
//     which keeps only the coefficients the scaled transform needs
//     (libjpeg-turbo keeps all of them: 55 MB for a 9 MP 4:4:4 file, and
//     it is 2–3× slower on them here);
//   - a damaged file jpegscale gives up on gets libjpeg-turbo's
//     recovery (decoded as libjpeg does, with a warning); CMYK gets image/jpeg.
func (p *Pipeline) decodeJPEG(data []byte, maxSide int) (decoded, error) {
	_, _, sof, _ := jpegFrame(data)
	if sof != sof2 {
		if img, warn, ok := p.native.decodeJPEGTurbo(data, maxSide); ok {
			return decoded{img: img, warn: warn}, nil
		}
	}
	img, err := jpegscale.Decode(bytes.NewReader(data), maxSide)
	if errors.Is(err, jpegscale.ErrFallback) {
		img, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil && sof == sof2 {
		if img, warn, ok := p.native.decodeJPEGTurbo(data, maxSide); ok {
			return decoded{img: img, warn: warn}, nil
		}
	}
	if err != nil && sof >= 0xC9 {
		err = &variantError{"an arithmetic-coded JPEG", err}
	}
	return decoded{img: img}, err
}
