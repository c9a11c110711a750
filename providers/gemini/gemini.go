// Package gemini is the client of Google's native Gemini API
// (streamGenerateContent over server-sent events). The key travels in the
// x-goog-api-key header, never in the URL.
//
// It makes one attempt per call and classifies every failure into a
// *providers.Error; retries belong to package providers. It knows nothing of
// sessions, personas or chat platforms.
package gemini

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tableround/tableround/providers"
)

// Defaults of the Gemini provider.
const (
	DefaultBaseURL     = "https://generativelanguage.googleapis.com"
	DefaultModel       = "gemini-2.5-flash"
	DefaultKeyVariable = "GEMINI_API_KEY"
)

// Config configures a Client. Zero values take the defaults of DefaultConfig.
type Config struct {
	Provider    string // name used in errors, "gemini"
	BaseURL     string // without /v1beta
	APIKey      string
	KeyVariable string
	Model       string
	// ThinkingBudget, when not nil, is sent as thinkingConfig.thinkingBudget
	// to "flash" models (0 turns thinking off, so that it cannot eat the
	// small per-speech token budget). Pro models cannot turn it off.
	ThinkingBudget *int

	FirstByteTimeout time.Duration
	IdleTimeout      time.Duration
	Timeout          time.Duration
	MaxTokens        int

	HTTPClient *http.Client // must not set Timeout
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	zero := 0
	return Config{
		Provider: "gemini", BaseURL: DefaultBaseURL, KeyVariable: DefaultKeyVariable, Model: DefaultModel,
		ThinkingBudget:   &zero,
		FirstByteTimeout: 60 * time.Second, IdleTimeout: 30 * time.Second, Timeout: 5 * time.Minute,
		MaxTokens: 1024,
	}
}

// Client talks to the Gemini API.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ providers.ChatModel = (*Client)(nil)

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	d := DefaultConfig()
	if cfg.Provider == "" {
		cfg.Provider = d.Provider
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = d.BaseURL
	}
	if cfg.KeyVariable == "" {
		cfg.KeyVariable = d.KeyVariable
	}
	if cfg.Model == "" {
		cfg.Model = d.Model
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
	p, err := url.Parse(cfg.BaseURL)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return nil, fmt.Errorf("new gemini client: %q is not a valid http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(strings.TrimRight(cfg.BaseURL, "/"), "/v1beta")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: providers.NewTransport()}
	}
	if hc.Timeout != 0 {
		return nil, errors.New("new gemini client: HTTPClient.Timeout would cut streams; use the Config timeouts")
	}
	return &Client{cfg: cfg, http: hc}, nil
}
