package gemini_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/gemini"
	"github.com/tableround/tableround/providers/promptcache"
	"github.com/tableround/tableround/providers/providertest"
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

// TestCacheFriendlyLayout: a system message after the shared context (the
// persona card) is sent after it, so two seats' calls share the prefix and
// the second reads it from Gemini's implicit cache (simulated by the fake).
func TestCacheFriendlyLayout(t *testing.T) {
	fake := providertest.NewGemini(t)
	fake.SimulateCache(promptcache.Rule{Unit: 64})
	cfg := gemini.DefaultConfig()
	cfg.BaseURL, cfg.APIKey = fake.URL, "k"
	c, err := gemini.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	shared := strings.Repeat("Bayar (craftsman): red paper folds well. ", 60)
	var usages []providers.Usage
	for _, who := range []string{"You are Bayar.", "You are Aygul."} {
		resp, err := c.Stream(context.Background(), providers.Request{Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: "table rules"}, {Role: providers.RoleUser, Content: shared},
			{Role: providers.RoleSystem, Content: who}, {Role: providers.RoleUser, Content: "Speak."}}},
			func(providers.Delta) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		usages = append(usages, resp.Usage)
	}
	if usages[0].CachedInputTokens != 0 || usages[1].CachedInputTokens < 500 {
		t.Fatalf("usages %+v", usages)
	}
	var body struct {
		SystemInstruction struct{ Parts []struct{ Text string } } `json:"systemInstruction"`
		Contents          []struct {
			Role  string
			Parts []struct{ Text string }
		} `json:"contents"`
	}
	if err := json.Unmarshal(fake.Requests()[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.SystemInstruction.Parts) != 1 || body.SystemInstruction.Parts[0].Text != "table rules" ||
		len(body.Contents) != 1 || len(body.Contents[0].Parts) != 3 || body.Contents[0].Parts[1].Text != "You are Aygul." {
		t.Fatalf("request %s", fake.Requests()[1].Body)
	}
}
