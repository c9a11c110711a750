package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tableround/tableround/providers"
)

type imageRequest struct {
	Model          string `json:"model"`
	Prompt         string `json:"prompt"`
	N              int    `json:"n,omitempty"`
	Size           string `json:"size,omitempty"`
	ResponseFormat string `json:"response_format,omitempty"`
}

type imageResponse struct {
	Data []struct {
		B64JSON string `json:"b64_json"`
		URL     string `json:"url"`
	} `json:"data"`
	Usage *struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
}

// Generate creates images with the Images API. gpt-image-1 takes no
// response_format and always answers b64_json; dall-e models are asked for
// b64_json, and dall-e-3 makes one image per request.
func (c *Client) Generate(ctx context.Context, req providers.ImageRequest) ([]providers.GeneratedImage, providers.Usage, error) {
	model := req.Model
	if model == "" {
		model = c.cfg.ImageModel
	}
	n := max(req.N, 1)
	perCall := n
	if strings.HasPrefix(model, "dall-e-3") {
		perCall = 1
	}
	var (
		out   []providers.GeneratedImage
		usage providers.Usage
	)
	for len(out) < n {
		ir := imageRequest{Model: model, Prompt: req.Prompt, N: min(perCall, n-len(out)), Size: req.Size}
		if strings.HasPrefix(model, "dall-e") {
			ir.ResponseFormat = "b64_json"
		}
		imgs, u, err := c.generateOnce(ctx, ir)
		usage = usage.Add(u)
		if err != nil {
			return out, usage, err
		}
		if len(imgs) == 0 {
			return out, usage, &providers.Error{Provider: c.cfg.Provider, Kind: providers.KindEmpty, Message: "no image in the reply"}
		}
		out = append(out, imgs...)
	}
	return out, usage, nil
}

func (c *Client) generateOnce(ctx context.Context, ir imageRequest) ([]providers.GeneratedImage, providers.Usage, error) {
	p := c.cfg.Provider
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, _ := json.Marshal(ir)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/images/generations", bytes.NewReader(body))
	if err != nil {
		return nil, providers.Usage{}, &providers.Error{Provider: p, Kind: providers.KindBadRequest, Message: "build request", Err: err}
	}
	c.setHeaders(hreq.Header)
	hresp, err := c.http.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, providers.Usage{}, &providers.Error{Provider: p, Kind: providers.KindTimeout, Message: "image generation", Err: ctx.Err()}
		}
		return nil, providers.Usage{}, providers.ClassifyTransport(p, err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		return nil, providers.Usage{}, providers.StatusError(p, c.cfg.KeyVariable, hresp, c.cfg.APIKey)
	}
	var r imageResponse
	if err := json.NewDecoder(hresp.Body).Decode(&r); err != nil {
		return nil, providers.Usage{}, providers.MalformedError(p, nil, err)
	}
	usage := providers.Usage{Calls: 1}
	if r.Usage != nil {
		usage.InputTokens, usage.OutputTokens = r.Usage.InputTokens, r.Usage.OutputTokens
	}
	var out []providers.GeneratedImage
	for _, d := range r.Data {
		switch {
		case d.B64JSON != "":
			data, err := base64.StdEncoding.DecodeString(d.B64JSON)
			if err != nil {
				return out, usage, providers.MalformedError(p, nil, err)
			}
			out = append(out, providers.GeneratedImage{MIME: http.DetectContentType(data), Data: data})
		case d.URL != "":
			img, err := providers.Download(ctx, c.http, p, d.URL, c.cfg.MaxImageBytes)
			if err != nil {
				return out, usage, err
			}
			out = append(out, img)
		}
	}
	return out, usage, nil
}
