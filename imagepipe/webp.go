package imagepipe

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"

	"golang.org/x/image/webp"
)

// decodeWebP decodes a still WebP, or the first frame of an animated one on
// its canvas, and corrects lossy WebP's colour: VP8 stores limited-range
// ("studio swing", Y 16–235) BT.601, which Go's YCbCr reads as full range,
// losing contrast. The planes are expanded to full range in place.
func decodeWebP(data []byte) (image.Image, error) {
	img, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		frame, cw, ch, ok := firstWebPFrame(data)
		if !ok {
			return nil, err
		}
		if img, err = webp.Decode(bytes.NewReader(frame.data)); err != nil {
			return nil, err
		}
		fullRange(img)
		return onCanvas(offsetImage{img, frame.x, frame.y}, cw, ch), nil
	}
	fullRange(img)
	return img, nil
}

// limitedY and limitedC map limited-range luma and chroma to full range.
var limitedY, limitedC = func() (y, c [256]uint8) {
	for i := range 256 {
		y[i] = clampByte((float64(i) - 16) * 255 / 219)
		c[i] = clampByte((float64(i)-128)*255/224 + 128)
	}
	return y, c
}()

func clampByte(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// fullRange expands a lossy WebP's YCbCr planes to full range.
func fullRange(img image.Image) {
	var m *image.YCbCr
	switch v := img.(type) {
	case *image.YCbCr:
		m = v
	case *image.NYCbCrA:
		m = &v.YCbCr
	default:
		return // lossless WebP is RGB already
	}
	for i, v := range m.Y {
		m.Y[i] = limitedY[v]
	}
	for i, v := range m.Cb {
		m.Cb[i] = limitedC[v]
	}
	for i, v := range m.Cr {
		m.Cr[i] = limitedC[v]
	}
}

// offsetImage shows img moved by (x, y).
type offsetImage struct {
	image.Image
	x, y int
}

func (o offsetImage) Bounds() image.Rectangle {
	return o.Image.Bounds().Add(image.Pt(o.x, o.y))
}

func (o offsetImage) At(x, y int) color.Color { return o.Image.At(x-o.x, y-o.y) }

type webpFrame struct {
	data []byte // a standalone still WebP holding the frame
	x, y int
}

// firstWebPFrame finds the first ANMF chunk of an animated WebP and wraps
// its bitstream (ALPH + VP8, or VP8L) as a still WebP, with the canvas size
// from VP8X. x/image/webp decodes stills only.
func firstWebPFrame(data []byte) (f webpFrame, cw, ch int, ok bool) {
	if len(data) < 12 {
		return f, 0, 0, false
	}
	for rest := data[12:]; len(rest) >= 8; {
		typ := string(rest[:4])
		n := int(binary.LittleEndian.Uint32(rest[4:8]))
		if n < 0 || 8+n > len(rest) {
			return f, 0, 0, false
		}
		body := rest[8 : 8+n]
		switch typ {
		case "VP8X":
			if len(body) >= 10 {
				cw, ch = 1+int(le24(body[4:])), 1+int(le24(body[7:]))
			}
		case "ANMF":
			if len(body) < 16 || cw == 0 {
				return f, 0, 0, false
			}
			f.x, f.y = 2*int(le24(body[0:])), 2*int(le24(body[3:]))
			fw, fh := 1+int(le24(body[6:])), 1+int(le24(body[9:]))
			f.data = stillWebP(body[16:], fw, fh)
			return f, cw, ch, f.data != nil
		}
		rest = rest[min(len(rest), 8+n+n%2):]
	}
	return f, 0, 0, false
}

// stillWebP builds a RIFF/WEBP file from a frame's chunks: VP8X with the
// alpha flag when an ALPH chunk is present, so the decoder applies it.
func stillWebP(chunks []byte, w, h int) []byte {
	var buf bytes.Buffer
	buf.WriteString("RIFF\x00\x00\x00\x00WEBP")
	if bytes.Contains(chunks[:min(len(chunks), 4)], []byte("ALPH")) {
		vp8x := make([]byte, 18)
		copy(vp8x, "VP8X")
		binary.LittleEndian.PutUint32(vp8x[4:], 10)
		vp8x[8] = 0x10 // alpha
		putLE24(vp8x[12:], uint32(w-1))
		putLE24(vp8x[15:], uint32(h-1))
		buf.Write(vp8x)
	}
	buf.Write(chunks)
	out := buf.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func le24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

func putLE24(b []byte, v uint32) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
