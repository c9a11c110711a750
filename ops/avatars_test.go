package ops

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"testing"
)

var testSeats = map[string][]AvatarSeat{
	"papercut": {
		{ID: "craftsman", Name: "Bayar", Color: "#b5651d"},
		{ID: "consumer_1", Name: "阿依古丽", Color: "#2e86c1"},
		{ID: "moderator", Name: "", Color: "not a colour"},
	},
}

func TestAvatarURL(t *testing.T) {
	tests := []struct {
		name, base, pack, seat, want string
	}{
		{"configured", "https://bot.example.com", "papercut", "craftsman", "https://bot.example.com/avatars/papercut/craftsman.png"},
		{"trailing slash", "https://bot.example.com/tr/", "papercut", "consumer_1", "https://bot.example.com/tr/avatars/papercut/consumer_1.png"},
		{"no base URL", "", "papercut", "craftsman", ""},
		{"unknown seat", "https://bot.example.com", "papercut", "nobody", ""},
		{"unknown pack", "https://bot.example.com", "other", "craftsman", ""},
		{"traversal", "https://bot.example.com", "..", "craftsman", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewAvatars(tt.base, testSeats).AvatarURL(tt.pack, tt.seat); got != tt.want {
				t.Errorf("AvatarURL = %q, want %q", got, tt.want)
			}
		})
	}
	var nilAvatars *Avatars
	if got := nilAvatars.AvatarURL("papercut", "craftsman"); got != "" {
		t.Errorf("nil Avatars URL = %q", got)
	}
}

func TestAvatarsServe(t *testing.T) {
	h := NewServer(Config{}, ServerOptions{Avatars: NewAvatars("", testSeats)}).Handler()
	tests := []struct {
		path string
		code int
	}{
		{"/avatars/papercut/craftsman.png", http.StatusOK},
		{"/avatars/papercut/consumer_1.png", http.StatusOK},
		{"/avatars/papercut/moderator.png", http.StatusOK},
		{"/avatars/papercut/nobody.png", http.StatusNotFound},
		{"/avatars/other/craftsman.png", http.StatusNotFound},
		{"/avatars/papercut/craftsman.jpg", http.StatusNotFound},
		{"/avatars/papercut/craftsman", http.StatusNotFound},
		{"/avatars/papercut/x/craftsman.png", http.StatusNotFound},
		{"/avatars/papercut/..%2F..%2Fetc%2Fpasswd.png", http.StatusNotFound},
		{"/avatars/%2E%2E/craftsman.png", http.StatusNotFound},
		{"/avatars/", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := get(t, h, tt.path)
			if rec.Code != tt.code {
				t.Fatalf("code = %d, want %d", rec.Code, tt.code)
			}
			if tt.code != http.StatusOK {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "image/png" {
				t.Errorf("Content-Type = %q", ct)
			}
			img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			checkAvatar(t, img)
		})
	}
}

// checkAvatar checks the size, the transparent corners, and that the disc
// holds both the seat colour and a white glyph.
func checkAvatar(t *testing.T, img image.Image) {
	t.Helper()
	if b := img.Bounds(); b.Dx() != AvatarSize || b.Dy() != AvatarSize {
		t.Fatalf("size = %v", b)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("corner alpha = %d, want transparent", a)
	}
	var white, other int
	for y := 0; y < AvatarSize; y += 2 {
		for x := 0; x < AvatarSize; x += 2 {
			r, g, b, a := img.At(x, y).RGBA()
			switch {
			case a != 0xffff:
			case r == 0xffff && g == 0xffff && b == 0xffff:
				white++
			default:
				other++
			}
		}
	}
	if white == 0 || other == 0 {
		t.Errorf("white pixels %d, coloured %d: want a glyph on a disc", white, other)
	}
}

func TestAvatarsDiffer(t *testing.T) {
	a := NewAvatars("", map[string][]AvatarSeat{"p": {
		{ID: "a", Name: "Ann", Color: "#ff0000"},
		{ID: "b", Name: "Bob", Color: "#ff0000"},
		{ID: "c", Name: "李", Color: "#ff0000"},
		{ID: "d", Name: "王", Color: "#ff0000"},
		{ID: "e", Name: "Eve", Color: "#00f"},
	}})
	seen := map[string]string{}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		b, err := a.PNG("p", id)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[string(b)]; ok {
			t.Errorf("seats %s and %s look the same", prev, id)
		}
		seen[string(b)] = id
		again, _ := a.PNG("p", id)
		if !bytes.Equal(b, again) {
			t.Errorf("seat %s drawn twice differently", id)
		}
	}
}

func TestParseColor(t *testing.T) {
	tests := []struct {
		in      string
		r, g, b uint8
	}{
		{"#b5651d", 0xb5, 0x65, 0x1d},
		{"#0af", 0x00, 0xaa, 0xff},
		{" #FFFFFF ", 0xff, 0xff, 0xff},
		{"red", 0x8e, 0x8e, 0x8e},
		{"#12345z", 0x8e, 0x8e, 0x8e},
		{"", 0x8e, 0x8e, 0x8e},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c := parseColor(tt.in)
			if c.R != tt.r || c.G != tt.g || c.B != tt.b || c.A != 0xff {
				t.Errorf("parseColor(%q) = %v", tt.in, c)
			}
		})
	}
}
