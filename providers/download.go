package providers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Download fetches a generated image at once (provider URLs expire) with a
// size cap. The context carries the timeout. Only image types are accepted.
func Download(ctx context.Context, client *http.Client, provider, rawURL string, maxBytes int64) (GeneratedImage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return GeneratedImage{}, &Error{Provider: provider, Kind: KindMalformed, Message: "bad image URL", Err: err}
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return GeneratedImage{}, &Error{Provider: provider, Kind: KindTimeout, Message: "image download", Err: ctx.Err()}
		}
		return GeneratedImage{}, ClassifyTransport(provider, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e := StatusError(provider, "", resp)
		e.Message = "image download: " + e.Message
		return GeneratedImage{}, e
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return GeneratedImage{}, ClassifyTransport(provider, err)
	}
	if int64(len(data)) > maxBytes {
		return GeneratedImage{}, &Error{Provider: provider, Kind: KindBadRequest, Message: fmt.Sprintf("image larger than %d bytes", maxBytes)}
	}
	mime := http.DetectContentType(data)
	if !strings.HasPrefix(mime, "image/") {
		return GeneratedImage{}, &Error{Provider: provider, Kind: KindMalformed, Message: "downloaded file is not an image (" + mime + ")"}
	}
	return GeneratedImage{MIME: mime, Data: data, SourceURL: rawURL}, nil
}

// WithModel returns a ChatModel that sends model on every request that
// names none (a seat's override on a shared client).
func WithModel(m ChatModel, model string) ChatModel {
	if model == "" {
		return m
	}
	return modelOverride{m: m, model: model}
}

type modelOverride struct {
	m     ChatModel
	model string
}

func (o modelOverride) Stream(ctx context.Context, req Request, fn StreamFunc) (Response, error) {
	if req.Model == "" {
		req.Model = o.model
	}
	return o.m.Stream(ctx, req, fn)
}
