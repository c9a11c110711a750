// Package openai is the client of every OpenAI-compatible chat completions
// server (OpenAI, OpenRouter, DeepSeek, Ollama, Volcengine Ark, any
// AI_BASE_URL) and of the OpenAI Images API.
//
// It streams over server-sent events with its own watchdogs and classifies
// every failure into a *providers.Error. It makes one attempt per call:
// retries, backoff and circuit breaking are the job of package providers.
// It knows nothing of sessions, personas or chat platforms.
package openai

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/providers"
)

// Config configures a Client. Zero durations and sizes take the defaults of
// DefaultConfig.
type Config struct {
	Provider    string            // name used in errors and responses, e.g. "openrouter"
	BaseURL     string            // e.g. https://api.openai.com/v1 (without /chat/completions)
	APIKey      string            // sent as a Bearer token; empty sends none
	KeyVariable string            // the variable holding the key, named in auth errors
	Model       string            // default chat model
	ImageModel  string            // default image model (Images API), e.g. gpt-image-1
	Headers     map[string]string // extra headers (OpenRouter attribution)

	FirstByteTimeout time.Duration // until the first line of the stream; generous, Ollama loads models
	IdleTimeout      time.Duration // the longest silence inside a stream
	Timeout          time.Duration // a whole call
	MaxTokens        int           // when the request sets none
	// TokenParam is how the cap is sent: MaxCompletionTokens (OpenAI),
	// MaxTokens (servers that need it), or empty to choose by the model's
	// name. A 400 refusing it is retried once with the other, and the
	// choice is remembered per model.
	TokenParam    string
	MaxImageBytes int64 // cap of a downloaded generated image

	HTTPClient *http.Client // must not set Timeout; nil uses a default transport
}

// DefaultConfig returns the defaults of an OpenAI client.
func DefaultConfig() Config {
	return Config{
		Provider:         "openai",
		BaseURL:          "https://api.openai.com/v1",
		KeyVariable:      "OPENAI_API_KEY",
		Model:            "gpt-4o-mini",
		ImageModel:       "gpt-image-1",
		FirstByteTimeout: 60 * time.Second,
		IdleTimeout:      30 * time.Second,
		Timeout:          5 * time.Minute,
		MaxTokens:        1024,
		TokenParam:       MaxCompletionTokens,
		MaxImageBytes:    20 << 20,
	}
}

// Client talks to one OpenAI-compatible server.
type Client struct {
	cfg   Config
	http  *http.Client
	forms sync.Map // model → wireForm learned from a refusal
}

var (
	_ providers.ChatModel      = (*Client)(nil)
	_ providers.ImageGenerator = (*Client)(nil)
)

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	d := DefaultConfig()
	if cfg.Provider == "" {
		cfg.Provider = d.Provider
	}
	if cfg.FirstByteTimeout <= 0 {
		cfg.FirstByteTimeout = d.FirstByteTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = d.IdleTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.Timeout
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = d.MaxTokens
	}
	if cfg.MaxImageBytes <= 0 {
		cfg.MaxImageBytes = d.MaxImageBytes
	}
	if err := CheckBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("new %s client: %w", cfg.Provider, err)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: providers.NewTransport()}
	}
	if hc.Timeout != 0 {
		return nil, errors.New("new " + cfg.Provider + " client: HTTPClient.Timeout would cut streams; use the Config timeouts")
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// Config returns the client's effective configuration without its key.
func (c *Client) Config() Config {
	cfg := c.cfg
	cfg.APIKey = ""
	return cfg
}

// CheckBaseURL reports whether u is an absolute http(s) URL with a host.
func CheckBaseURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%q is not a valid http(s) URL", u)
	}
	if p.User != nil {
		return errors.New("base URL must not carry credentials")
	}
	return nil
}

func (c *Client) timeouts() providers.Timeouts {
	return providers.Timeouts{FirstByte: c.cfg.FirstByteTimeout, Idle: c.cfg.IdleTimeout, Overall: c.cfg.Timeout}
}

func (c *Client) setHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		h.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	for k, v := range c.cfg.Headers {
		h.Set(k, v)
	}
}

// usesCompletionTokens reports whether a model takes max_completion_tokens
// instead of max_tokens (OpenAI o-series and gpt-5), which also reject a
// temperature other than the default.
func usesCompletionTokens(model string) bool {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	if strings.HasPrefix(m, "gpt-5") {
		return true
	}
	return len(m) >= 2 && m[0] == 'o' && m[1] >= '1' && m[1] <= '9'
}
