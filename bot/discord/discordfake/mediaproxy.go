package discordfake

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"strconv"
	"sync"

	"github.com/disintegration/imaging"
)

// Discord's media proxy, as the fake serves it: an attachment's proxy_url
// (media.discordapp.net on Discord) resizes an image to the width and
// height in its query, the parameters Discord's client uses to pick a
// resized image (discord/discord-api-docs#6660), and re-encodes it in its
// own format. It serves only attachments that have a width and height:
// others get 415 Unsupported Media Type (discord-api-docs#5174), as does an
// image it cannot decode. It never enlarges.

// attachmentStore holds the files people posted, by URL key, under its
// own lock.
type attachmentStore struct {
	mu    sync.Mutex
	byKey map[string]File
}

func (s *attachmentStore) putAttachment(key string, f File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byKey[key] = f
}

func (s *attachmentStore) attachment(key string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.byKey[key]
	return f, ok
}

// attachmentJSON is an attachment object: width, height and proxy_url
// when the fake can read the image's dimensions, as Discord sets them for
// images.
func (s *Server) attachmentJSON(id, key string, f File) map[string]any {
	att := map[string]any{"id": id, "filename": f.Name, "content_type": f.ContentType,
		"size": len(f.Data), "url": s.srv.URL + "/attachments/" + key}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Data)); err == nil {
		att["width"], att["height"] = cfg.Width, cfg.Height
		att["proxy_url"] = s.srv.URL + "/media-proxy/attachments/" + key
	}
	return att
}

// serveMediaProxy serves /media-proxy/attachments/KEY?width=W&height=H.
func (s *Server) serveMediaProxy(w http.ResponseWriter, r *http.Request, f File) {
	s.count("GET /media-proxy")
	img, format, err := image.Decode(bytes.NewReader(f.Data))
	if err != nil {
		http.Error(w, "415: Unsupported Media Type", http.StatusUnsupportedMediaType)
		return
	}
	q := r.URL.Query()
	if q.Get("width") == "" && q.Get("height") == "" {
		w.Header().Set("Content-Type", f.ContentType)
		_, _ = w.Write(f.Data)
		return
	}
	dw, err1 := strconv.Atoi(q.Get("width"))
	dh, err2 := strconv.Atoi(q.Get("height"))
	if err1 != nil || err2 != nil || dw <= 0 || dh <= 0 {
		http.Error(w, "400: Bad Request", http.StatusBadRequest)
		return
	}
	b := img.Bounds()
	if dw < b.Dx() || dh < b.Dy() {
		img = imaging.Resize(img, min(dw, b.Dx()), min(dh, b.Dy()), imaging.Box) // a fake: fast over fine
	}
	var out bytes.Buffer
	if format == "png" {
		err = png.Encode(&out, img)
		w.Header().Set("Content-Type", "image/png")
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 80})
		w.Header().Set("Content-Type", "image/jpeg")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(out.Bytes())
}
