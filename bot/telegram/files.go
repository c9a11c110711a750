package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/imagepipe"
)

// fileRef is an image in a message, not yet downloaded.
type fileRef struct {
	id   string
	size int64
	name string
	mime string
}

var imageExt = map[string]string{".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
	".webp": "image/webp", ".bmp": "image/bmp", ".heic": "image/heic", ".heif": "image/heif"}

// photoTarget is the longest side imagepipe prepares photos at: a photo
// size that covers it is all the model needs.
var photoTarget = imagepipe.DefaultOptions().MaxSide

// imageOf finds the picture of a message: the smallest photo size whose
// longest side covers photoTarget (the largest when none does), or a
// document that is an image by MIME type or name (HEIC arrives as a
// document, sometimes as application/octet-stream).
func imageOf(m *models.Message) *fileRef {
	if len(m.Photo) > 0 {
		best := m.Photo[0]
		covers := func(p models.PhotoSize) bool { return max(p.Width, p.Height) >= photoTarget }
		for _, p := range m.Photo[1:] {
			bigger := p.Width*p.Height > best.Width*best.Height
			switch {
			case covers(p) && (!covers(best) || !bigger):
				best = p
			case !covers(p) && !covers(best) && bigger:
				best = p
			}
		}
		return &fileRef{id: best.FileID, size: int64(best.FileSize), name: "photo.jpg", mime: "image/jpeg"}
	}
	if d := m.Document; d != nil {
		mt := strings.ToLower(d.MimeType)
		byExt := imageExt[strings.ToLower(path.Ext(d.FileName))]
		if strings.HasPrefix(mt, "image/") || byExt != "" {
			if !strings.HasPrefix(mt, "image/") {
				mt = byExt
			}
			return &fileRef{id: d.FileID, size: d.FileSize, name: d.FileName, mime: mt}
		}
	}
	return nil
}

// download fetches a picture with getFile and the file link, capped in
// size and time. On failure it returns the sentence to show the person.
func (a *Adapter) download(ctx context.Context, f *fileRef) (*bot.Attachment, string) {
	limitMB := a.o.MaxDownload >> 20
	tooBig := fmt.Sprintf("That file is too large for me: I can download at most %d MB. Send it as a photo (compressed) or a smaller file.", limitMB)
	if f.size > a.o.MaxDownload {
		return nil, tooBig
	}
	ctx, cancel := context.WithTimeout(ctx, a.o.DownloadTimeout)
	defer cancel()
	data, err := fetch(ctx, a.main.b, a.httpc, a.o.MaxDownload, a.red, f.id)
	switch {
	case errors.Is(err, errTooBig):
		return nil, tooBig
	case err != nil:
		a.log.Warn("download failed", "err", err)
		return nil, "I couldn't download that picture; please try again."
	}
	name := f.name
	if name == "" {
		name = "image"
	}
	return &bot.Attachment{Name: name, MIME: f.mime, Data: data}, ""
}

var errTooBig = errors.New("file too big")

// fetch downloads a file by ID with getFile and the file link (which
// carries the token), at most limit bytes.
func fetch(ctx context.Context, b *tgbot.Bot, httpc *http.Client, limit int64, red *redactor, fileID string) ([]byte, error) {
	file, err := b.GetFile(ctx, &tgbot.GetFileParams{FileID: fileID})
	if err != nil {
		if errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "too big") {
			return nil, errTooBig
		}
		return nil, fmt.Errorf("getFile: %w", red.redact(err))
	}
	if file.FileSize > limit {
		return nil, errTooBig
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.FileDownloadLink(file), nil)
	if err != nil {
		return nil, fmt.Errorf("download: %w", red.redact(err))
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download: %w", red.redact(err)) // the link carries the token
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("download: %w", red.redact(err))
	}
	if int64(len(data)) > limit {
		return nil, errTooBig
	}
	return data, nil
}
