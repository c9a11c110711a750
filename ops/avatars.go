package ops

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// AvatarSize is the width and height of a drawn avatar in pixels.
const AvatarSize = 256

// AvatarSeat is what an avatar is drawn from: a seat of a persona pack (or
// the moderator, with ID "moderator").
type AvatarSeat struct {
	ID    string // seat ID, a path part of the URL
	Name  string // display name; its initial is drawn when it is an ASCII letter or digit
	Color string // "#rrggbb" or "#rgb"; anything else draws grey
}

// Avatars draws one PNG per seat — the seat's colour as a disc on a
// transparent background with a white initial or, for names that do not
// start with an ASCII letter, a geometric mark chosen by seat index — and
// serves them. Pictures are text-free apart from that ASCII initial, since
// Go ships no font for CJK. Drawings are cached in memory.
type Avatars struct {
	baseURL string
	packs   map[string][]AvatarSeat

	mu    sync.Mutex
	cache map[string][]byte // "pack/seat" → PNG
}

// pathPart is what a pack name or seat ID must look like to be served.
var pathPart = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`) })

// NewAvatars serves the seats of packs (keyed by pack name). publicBaseURL
// is Config.PublicBaseURL; without it AvatarURL returns "" (platforms
// then use their own fallback), but the pictures are still served.
func NewAvatars(publicBaseURL string, packs map[string][]AvatarSeat) *Avatars {
	return &Avatars{
		baseURL: strings.TrimRight(publicBaseURL, "/"),
		packs:   packs,
		cache:   map[string][]byte{},
	}
}

// AvatarURL returns PUBLIC_BASE_URL/avatars/<pack>/<seat>.png, or "" when
// no public base URL is configured or the seat is unknown.
func (a *Avatars) AvatarURL(pack, seat string) string {
	if a == nil || a.baseURL == "" {
		return ""
	}
	if _, _, ok := a.seat(pack, seat); !ok {
		return ""
	}
	return a.baseURL + "/avatars/" + url.PathEscape(pack) + "/" + url.PathEscape(seat) + ".png"
}

// PNG returns the drawn avatar of a seat.
func (a *Avatars) PNG(pack, seat string) ([]byte, error) {
	s, index, ok := a.seat(pack, seat)
	if !ok {
		return nil, fmt.Errorf("draw avatar %s/%s: unknown pack or seat", pack, seat)
	}
	key := pack + "/" + seat
	a.mu.Lock()
	defer a.mu.Unlock()
	if b, ok := a.cache[key]; ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, drawAvatar(s, index)); err != nil {
		return nil, fmt.Errorf("encode avatar %s: %w", key, err)
	}
	a.cache[key] = buf.Bytes()
	return buf.Bytes(), nil
}

func (a *Avatars) seat(pack, seat string) (AvatarSeat, int, bool) {
	if a == nil || !pathPart().MatchString(pack) || !pathPart().MatchString(seat) {
		return AvatarSeat{}, 0, false
	}
	for i, s := range a.packs[pack] {
		if s.ID == seat {
			return s, i, true
		}
	}
	return AvatarSeat{}, 0, false
}

// ServeHTTP serves GET /avatars/<pack>/<seat>.png; anything else is a 404.
func (a *Avatars) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/avatars/")
	pack, file, ok2 := strings.Cut(rest, "/")
	seat, ok3 := strings.CutSuffix(file, ".png")
	if !ok || !ok2 || !ok3 {
		http.NotFound(w, r)
		return
	}
	b, err := a.PNG(pack, seat)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "public, max-age=86400")
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// drawAvatar draws a seat's picture.
func drawAvatar(s AvatarSeat, index int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, AvatarSize, AvatarSize))
	const c = AvatarSize / 2.0
	fill(img, parseColor(s.Color), func(x, y float64) bool {
		return math.Hypot(x-c, y-c) <= c-2
	})
	white := color.NRGBA{255, 255, 255, 255}
	if r, ok := asciiInitial(s.Name); ok {
		drawInitial(img, r, white)
		return img
	}
	fill(img, white, marks[index%len(marks)])
	return img
}

// fill paints the pixels inside a shape, anti-aliased by 4×4 supersampling.
func fill(img *image.NRGBA, col color.NRGBA, inside func(x, y float64) bool) {
	const n = 4
	for py := 0; py < AvatarSize; py++ {
		for px := 0; px < AvatarSize; px++ {
			hits := 0
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					if inside(float64(px)+(float64(sx)+0.5)/n, float64(py)+(float64(sy)+0.5)/n) {
						hits++
					}
				}
			}
			if hits > 0 {
				blend(img, px, py, col, float64(hits)/(n*n))
			}
		}
	}
}

// blend composes col with coverage cov over the pixel (source over).
func blend(img *image.NRGBA, x, y int, col color.NRGBA, cov float64) {
	dst := img.NRGBAAt(x, y)
	sa := cov * float64(col.A) / 255
	da := float64(dst.A) / 255
	oa := sa + da*(1-sa)
	if oa == 0 {
		return
	}
	mix := func(s, d uint8) uint8 {
		return uint8(math.Round((float64(s)*sa + float64(d)*da*(1-sa)) / oa))
	}
	img.SetNRGBA(x, y, color.NRGBA{mix(col.R, dst.R), mix(col.G, dst.G), mix(col.B, dst.B), uint8(math.Round(oa * 255))})
}

// marks are the white shapes drawn for seats without an ASCII initial.
var marks = []func(x, y float64) bool{
	func(x, y float64) bool { return math.Hypot(x-128, y-128) <= 44 },                    // dot
	func(x, y float64) bool { d := math.Hypot(x-128, y-128); return d <= 64 && d >= 40 }, // ring
	func(x, y float64) bool { return math.Abs(x-128) <= 50 && math.Abs(y-128) <= 50 },    // square
	func(x, y float64) bool { return math.Abs(x-128)+math.Abs(y-128) <= 68 },             // diamond
	func(x, y float64) bool { // triangle, point up
		return y <= 176 && y >= 72 && math.Abs(x-128) <= (y-72)*0.6
	},
	func(x, y float64) bool { // plus
		ax, ay := math.Abs(x-128), math.Abs(y-128)
		return (ax <= 18 && ay <= 64) || (ay <= 18 && ax <= 64)
	},
	func(x, y float64) bool { // two dots
		return math.Hypot(x-96, y-128) <= 26 || math.Hypot(x-160, y-128) <= 26
	},
}

// asciiInitial returns the upper-cased first rune of name when it is an
// ASCII letter or digit.
func asciiInitial(name string) (rune, bool) {
	name = strings.TrimSpace(name)
	if name == "" {
		return 0, false
	}
	r := rune(name[0])
	switch {
	case r >= 'a' && r <= 'z':
		return r - 'a' + 'A', true
	case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return r, true
	}
	return 0, false
}

// drawInitial draws r with the basicfont bitmap face, emboldened, scaled
// up by whole pixels and centred.
func drawInitial(img *image.NRGBA, r rune, col color.NRGBA) {
	face := basicfont.Face7x13
	mask := image.NewAlpha(image.Rect(0, 0, 16, 16))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(2, face.Ascent+1)}
	d.DrawString(string(r))
	// Embolden: the face's strokes are one pixel wide, thin once scaled.
	for y := 0; y < 16; y++ {
		for x := 15; x > 0; x-- {
			if mask.AlphaAt(x-1, y).A > 0 {
				mask.SetAlpha(x, y, color.Alpha{A: 0xff})
			}
		}
	}
	ink := image.Rectangle{}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			if mask.AlphaAt(x, y).A > 0 {
				ink = ink.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if ink.Empty() {
		return
	}
	scale := min(112/ink.Dy(), 112/ink.Dx())
	ox := (AvatarSize - ink.Dx()*scale) / 2
	oy := (AvatarSize - ink.Dy()*scale) / 2
	for y := ink.Min.Y; y < ink.Max.Y; y++ {
		for x := ink.Min.X; x < ink.Max.X; x++ {
			if mask.AlphaAt(x, y).A == 0 {
				continue
			}
			x0, y0 := ox+(x-ink.Min.X)*scale, oy+(y-ink.Min.Y)*scale
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetNRGBA(x0+dx, y0+dy, col)
				}
			}
		}
	}
}

// parseColor reads "#rrggbb" or "#rgb"; anything else is grey.
func parseColor(s string) color.NRGBA {
	grey := color.NRGBA{0x8e, 0x8e, 0x8e, 0xff}
	h, ok := strings.CutPrefix(strings.TrimSpace(s), "#")
	if !ok {
		return grey
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		return grey
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return grey
	}
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
}
