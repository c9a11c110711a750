package discord

import (
	"bytes"
	"image"
	"image/jpeg"
	"net/url"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot/discord/discordfake"
)

func TestResizedURL(t *testing.T) {
	const proxy = "https://media.discordapp.net/attachments/1/2/p.jpg?ex=65&is=64&hm=abc"
	cases := []struct {
		name string
		at   discordgo.MessageAttachment
		w, h string // "" when the original is fetched
	}{
		{"landscape phone photo", discordgo.MessageAttachment{ProxyURL: proxy, ContentType: "image/jpeg", Width: 4032, Height: 3024}, "800", "600"},
		{"portrait", discordgo.MessageAttachment{ProxyURL: proxy, ContentType: "image/png", Width: 1000, Height: 3000}, "267", "800"},
		{"already small", discordgo.MessageAttachment{ProxyURL: proxy, ContentType: "image/jpeg", Width: 800, Height: 500}, "", ""},
		{"no dimensions (proxy answers 415)", discordgo.MessageAttachment{ProxyURL: proxy, ContentType: "image/jpeg"}, "", ""},
		{"HEIC", discordgo.MessageAttachment{ProxyURL: proxy, ContentType: "image/heic", Width: 4032, Height: 3024}, "", ""},
		{"no proxy URL", discordgo.MessageAttachment{ContentType: "image/jpeg", Width: 4032, Height: 3024}, "", ""},
	}
	for _, c := range cases {
		got := resizedURL(&c.at, 800)
		if c.w == "" {
			if got != "" {
				t.Errorf("%s: %q, want the original", c.name, got)
			}
			continue
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("%s: %q: %v", c.name, got, err)
		}
		q := u.Query()
		if q.Get("width") != c.w || q.Get("height") != c.h {
			t.Errorf("%s: %s, want width=%s height=%s", c.name, got, c.w, c.h)
		}
		if q.Get("ex") != "65" || q.Get("is") != "64" || q.Get("hm") != "abc" || u.Path != "/attachments/1/2/p.jpg" {
			t.Errorf("%s: %s lost the signed URL's path or parameters", c.name, got)
		}
	}
}

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(x), uint8(y), 90, 255
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A large photo is fetched resized through the media proxy, the original
// never.
func TestLargePhotoFetchedResized(t *testing.T) {
	t.Parallel()
	hs := newFastHarness(t, discordfake.DiscordLimits(), nil)
	photo := discordfake.File{Name: "big.jpg", ContentType: "image/jpeg", Data: testJPEG(t, 1000, 750)}
	_, res := hs.mention("quick big photo", photo)
	if res.Req.Image == nil {
		t.Fatal("no image in the request")
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(res.Req.Image.Data))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 800 || cfg.Height != 600 {
		t.Errorf("image %dx%d, want the proxy's 800x600", cfg.Width, cfg.Height)
	}
	if p, o := hs.fake.Requests("GET /media-proxy"), hs.fake.Requests("GET /attachments"); p != 1 || o != 0 {
		t.Errorf("media proxy fetched %d times, original %d; want 1 and 0", p, o)
	}
}

// When the proxy cannot serve the image (here: it cannot decode it, 415),
// the original is fetched.
func TestMediaProxyFailureFallsBackToOriginal(t *testing.T) {
	t.Parallel()
	hs := newFastHarness(t, discordfake.DiscordLimits(), nil)
	data := testJPEG(t, 1000, 750)
	data = append(data[:len(data)/3:len(data)/3], bytes.Repeat([]byte{0}, 64)...) // header intact, scan data broken
	photo := discordfake.File{Name: "broken.jpg", ContentType: "image/jpeg", Data: data}
	_, res := hs.mention("quick broken photo", photo)
	if res.Req.Image == nil || !bytes.Equal(res.Req.Image.Data, data) {
		t.Fatalf("image = %v, want the original bytes", res.Req.Image != nil)
	}
	if p, o := hs.fake.Requests("GET /media-proxy"), hs.fake.Requests("GET /attachments"); p != 1 || o != 1 {
		t.Errorf("media proxy fetched %d times, original %d; want 1 and 1", p, o)
	}
}
