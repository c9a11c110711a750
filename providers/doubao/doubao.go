// Package doubao is the client of Volcengine Ark's Seedream image
// generation (POST {base}/images/generations). Generated images are
// downloaded at once, because Ark's URLs expire.
//
// Doubao chat models are served by the OpenAI-compatible client (preset
// openai.Doubao). This package knows nothing of sessions or chat platforms.
package doubao

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tableround/tableround/providers"
)

// Defaults of the Seedream client.
const (
	DefaultBaseURL     = "https://ark.cn-beijing.volces.com/api/v3"
	DefaultModel       = "doubao-seedream-3-0-t2i-250415"
	DefaultKeyVariable = "DOUBAO_API_KEY"
	DefaultSize        = "1024x1024"
)

// Config configures a Client. Zero values take DefaultConfig's.
type Config struct {
	Provider    string // name used in errors, "doubao"
	BaseURL     string
	APIKey      string
	KeyVariable string
	Model       string
	Size        string // when the request gives none; Seedream versions accept different sizes
	// ResponseFormat is "b64_json" (default: one round trip) or "url" (each
	// URL is downloaded at once).
	ResponseFormat string
	// Watermark is sent explicitly: Ark's own default is true.
	Watermark bool

	Timeout         time.Duration // one generation request
	DownloadTimeout time.Duration // one image download
	MaxImageBytes   int64
	HTTPClient      *http.Client
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Provider: "doubao", BaseURL: DefaultBaseURL, KeyVariable: DefaultKeyVariable, Model: DefaultModel,
		Size: DefaultSize, ResponseFormat: "b64_json",
		Timeout: 3 * time.Minute, DownloadTimeout: time.Minute, MaxImageBytes: 20 << 20,
	}
}

// Client generates images with Seedream.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ providers.ImageGenerator = (*Client)(nil)

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	d := DefaultConfig()
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&cfg.Provider, d.Provider}, {&cfg.BaseURL, d.BaseURL}, {&cfg.KeyVariable, d.KeyVariable},
		{&cfg.Model, d.Model}, {&cfg.Size, d.Size}, {&cfg.ResponseFormat, d.ResponseFormat},
	} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.Timeout
	}
	if cfg.DownloadTimeout <= 0 {
		cfg.DownloadTimeout = d.DownloadTimeout
	}
	if cfg.MaxImageBytes <= 0 {
		cfg.MaxImageBytes = d.MaxImageBytes
	}
	if cfg.ResponseFormat != "url" && cfg.ResponseFormat != "b64_json" {
		return nil, fmt.Errorf("new doubao client: response format %q is not url or b64_json", cfg.ResponseFormat)
	}
	p, err := url.Parse(cfg.BaseURL)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return nil, fmt.Errorf("new doubao client: %q is not a valid http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: providers.NewTransport()}
	}
	if hc.Timeout != 0 {
		return nil, errors.New("new doubao client: use the Config timeouts, not HTTPClient.Timeout")
	}
	return &Client{cfg: cfg, http: hc}, nil
}

type generateRequest struct {
	Model          string `json:"model"`
	Prompt         string `json:"prompt"`
	Size           string `json:"size,omitempty"`
	ResponseFormat string `json:"response_format"`
	Watermark      bool   `json:"watermark"` // always sent: Ark defaults to true
}

type generateResponse struct {
	Data []struct {
		URL     string `json:"url"`
		B64JSON string `json:"b64_json"`
	} `json:"data"`
	Usage *struct {
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// Generate makes req.N images (one request each; Seedream 3 makes one).
func (c *Client) Generate(ctx context.Context, req providers.ImageRequest) ([]providers.GeneratedImage, providers.Usage, error) {
	gr := generateRequest{Model: req.Model, Prompt: req.Prompt, Size: req.Size, ResponseFormat: c.cfg.ResponseFormat, Watermark: c.cfg.Watermark}
	if gr.Model == "" {
		gr.Model = c.cfg.Model
	}
	if gr.Size == "" {
		gr.Size = c.cfg.Size
	}
	var (
		out   []providers.GeneratedImage
		usage providers.Usage
	)
	for range max(req.N, 1) {
		imgs, u, err := c.generateOnce(ctx, gr)
		usage = usage.Add(u)
		out = append(out, imgs...)
		if err != nil {
			return out, usage, err
		}
	}
	if len(out) == 0 {
		return nil, usage, &providers.Error{Provider: c.cfg.Provider, Kind: providers.KindEmpty, Message: "no image in the reply"}
	}
	return out, usage, nil
}

func (c *Client) generateOnce(ctx context.Context, gr generateRequest) ([]providers.GeneratedImage, providers.Usage, error) {
	p := c.cfg.Provider
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, _ := json.Marshal(gr)
	hreq, err := http.NewRequestWithContext(rctx, http.MethodPost, c.cfg.BaseURL+"/images/generations", bytes.NewReader(body))
	if err != nil {
		return nil, providers.Usage{}, &providers.Error{Provider: p, Kind: providers.KindBadRequest, Message: "build request", Err: err}
	}
	hreq.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	hresp, err := c.http.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, providers.Usage{}, ctx.Err()
		}
		if rctx.Err() != nil {
			return nil, providers.Usage{}, &providers.Error{Provider: p, Kind: providers.KindTimeout, Message: fmt.Sprintf("no image within %s", c.cfg.Timeout)}
		}
		return nil, providers.Usage{}, providers.ClassifyTransport(p, err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		return nil, providers.Usage{}, providers.StatusError(p, c.cfg.KeyVariable, hresp, c.cfg.APIKey)
	}
	var r generateResponse
	if err := json.NewDecoder(hresp.Body).Decode(&r); err != nil {
		return nil, providers.Usage{}, providers.MalformedError(p, nil, err)
	}
	if len(r.Error) > 0 && string(r.Error) != "null" {
		d, _ := providers.ParseErrorDetail([]byte(`{"error":` + string(r.Error) + `}`))
		return nil, providers.Usage{}, providers.ClassifyStreamError(p, c.cfg.KeyVariable, d)
	}
	usage := providers.Usage{Calls: 1}
	if r.Usage != nil {
		usage.OutputTokens = r.Usage.OutputTokens
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
			dctx, dcancel := context.WithTimeout(ctx, c.cfg.DownloadTimeout)
			img, err := providers.Download(dctx, c.http, p, d.URL, c.cfg.MaxImageBytes)
			dcancel()
			if err != nil {
				return out, usage, fmt.Errorf("download generated image: %w", err)
			}
			out = append(out, img)
		}
	}
	return out, usage, nil
}
