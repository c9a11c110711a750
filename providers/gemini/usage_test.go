package gemini_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/gemini"
)

// TestUsageCached parses usageMetadata as Gemini 2.5 sends it with an
// implicit cache hit.
func TestUsageCached(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"candidates": [{"content": {"parts": [{"text": "Red paper."}],"role": "model"},"finishReason": "STOP","index": 0}],`+
			`"usageMetadata": {"promptTokenCount": 2100,"candidatesTokenCount": 50,"totalTokenCount": 2170,"cachedContentTokenCount": 1800,`+
			`"promptTokensDetails": [{"modality": "TEXT","tokenCount": 2100}],"cacheTokensDetails": [{"modality": "TEXT","tokenCount": 1800}],"thoughtsTokenCount": 20},`+
			`"modelVersion": "gemini-2.5-flash","responseId": "abc"}`+"\r\n\r\n")
	}))
	defer srv.Close()
	cfg := gemini.DefaultConfig()
	cfg.BaseURL, cfg.APIKey = srv.URL, "k"
	c, err := gemini.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Stream(context.Background(), providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "hi"}}},
		func(providers.Delta) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := providers.Usage{InputTokens: 2100, CachedInputTokens: 1800, OutputTokens: 70, Calls: 1}
	if resp.Usage != want {
		t.Errorf("usage %+v, want %+v", resp.Usage, want)
	}
}
