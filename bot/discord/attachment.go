package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/imagepipe"
)

// Fetching less: Discord's media proxy (an attachment's proxy_url, on
// media.discordapp.net) serves an image resized to the width and height in
// its query — the parameters exist "for the client to pick the appropriate
// resized image" (discord/discord-api-docs#6660). It serves only
// attachments with a width and height (images, videos), 415 otherwise
// (discord-api-docs#5174). A 12 MP phone photo of 3–5 MB comes back as
// the ~100 KB the vision model needs; the original URL stays the fallback.

// photoTarget is the longest side imagepipe prepares photos at.
func photoTarget() int { return imagepipe.DefaultOptions().MaxSide }

// proxyType tells the formats the media proxy resizes in their own format
// and imagepipe reads; HEIC, GIF (animation) and others take the original.
func proxyType(mime string) bool {
	switch strings.ToLower(mime) {
	case "image/jpeg", "image/png", "image/webp":
		return true
	}
	return false
}

// resizedURL returns at's media-proxy URL asking for the largest size that
// fits target with at's aspect ratio, or "" when the original is the right
// fetch: no proxy URL, no dimensions, a format the proxy does not resize
// for us, or an image already no larger than target. The signature query
// parameters of the proxy URL are kept.
func resizedURL(at *discordgo.MessageAttachment, target int) string {
	if at.ProxyURL == "" || at.Width <= 0 || at.Height <= 0 || target <= 0 ||
		max(at.Width, at.Height) <= target || !proxyType(at.ContentType) {
		return ""
	}
	u, err := url.Parse(at.ProxyURL)
	if err != nil {
		return ""
	}
	w, h := target, max(1, (at.Height*target+at.Width/2)/at.Width)
	if at.Height > at.Width {
		w, h = max(1, (at.Width*target+at.Height/2)/at.Height), target
	}
	q := u.Query()
	q.Set("width", strconv.Itoa(w))
	q.Set("height", strconv.Itoa(h))
	u.RawQuery = q.Encode()
	return u.String()
}

// fetcher downloads people's attachments (no authorization: attachment
// and media-proxy URLs are signed), capped in size.
type fetcher struct {
	http *http.Client
	max  int64 // bytes (Options.MaxImageBytes)
	log  *slog.Logger
}

// downloadResized fetches at through the media proxy at the size the model
// needs. It returns nil, nil when the original should be fetched instead,
// and an error (for the log; the caller then fetches the original) when
// the proxy fails.
func (a *fetcher) downloadResized(ctx context.Context, at *discordgo.MessageAttachment) (*bot.Attachment, error) {
	link := resizedURL(at, photoTarget())
	if link == "" {
		return nil, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, fmt.Errorf("media proxy: %w", err)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // its URL carries the signature: not for logs
			err = ue.Err
		}
		return nil, fmt.Errorf("media proxy: %w", err)
	}
	defer resp.Body.Close()
	mime := resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(mime, "image/") {
		return nil, fmt.Errorf("media proxy: HTTP %d, %q", resp.StatusCode, mime)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, a.max+1))
	if err != nil {
		return nil, fmt.Errorf("media proxy: %w", err)
	}
	if int64(len(data)) > a.max || len(data) == 0 {
		return nil, fmt.Errorf("media proxy: %d bytes", len(data))
	}
	return &bot.Attachment{Name: at.Filename, MIME: mime, Data: data}, nil
}

// tryResized is downloadResized for download: nil means fetch the
// original, and a proxy failure is logged, not returned.
func (a *fetcher) tryResized(ctx context.Context, at *discordgo.MessageAttachment) *bot.Attachment {
	img, err := a.downloadResized(ctx, at)
	if err != nil {
		a.log.Warn("resized attachment failed, fetching the original", "attachment", at.Filename, "err", err)
	}
	return img
}

// firstImage downloads the first image attachment at once (URLs expire),
// capped in size. nil when there is none.
func (a *fetcher) firstImage(ctx context.Context, atts []*discordgo.MessageAttachment) (*bot.Attachment, error) {
	for _, at := range atts {
		if isImage(at) {
			return a.download(ctx, at)
		}
	}
	return nil, nil
}

func isImage(at *discordgo.MessageAttachment) bool {
	if strings.HasPrefix(at.ContentType, "image/") {
		return true
	}
	n := strings.ToLower(at.Filename)
	for _, ext := range []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".heic", ".heif"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

func (a *fetcher) download(ctx context.Context, at *discordgo.MessageAttachment) (*bot.Attachment, error) {
	if int64(at.Size) > a.max {
		return nil, fmt.Errorf("attachment %s is %d bytes, over the %d cap", at.Filename, at.Size, a.max)
	}
	if img := a.tryResized(ctx, at); img != nil {
		return img, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, at.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("download attachment: %w", err)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download attachment %s: %w", at.Filename, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download attachment %s: HTTP %d", at.Filename, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, a.max+1))
	if err != nil {
		return nil, fmt.Errorf("download attachment %s: %w", at.Filename, err)
	}
	if int64(len(data)) > a.max {
		return nil, fmt.Errorf("attachment %s is over the %d byte cap", at.Filename, a.max)
	}
	mime := at.ContentType
	if mime == "" {
		mime = http.DetectContentType(data)
	}
	return &bot.Attachment{Name: at.Filename, MIME: mime, Data: data}, nil
}
