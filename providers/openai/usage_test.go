package openai_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/promptcache"
	"github.com/tableround/tableround/providers/providertest"
)

// TestUsageShapes parses the final usage chunk of each OpenAI-compatible
// provider as its documentation shows it, cached prompt tokens included.
func TestUsageShapes(t *testing.T) {
	const head = `data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}` + "\n\n" +
		`data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
	for _, tc := range []struct {
		name  string
		usage string
		want  providers.Usage
	}{
		{"openai", `{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`,
			providers.Usage{InputTokens: 2006, CachedInputTokens: 1920, OutputTokens: 300, Calls: 1}},
		{"openai, nothing cached", `{"prompt_tokens":900,"completion_tokens":30,"total_tokens":930,"prompt_tokens_details":{"cached_tokens":0}}`,
			providers.Usage{InputTokens: 900, OutputTokens: 30, Calls: 1}},
		{"deepseek", `{"prompt_tokens":1500,"completion_tokens":200,"total_tokens":1700,"prompt_cache_hit_tokens":1280,"prompt_cache_miss_tokens":220}`,
			providers.Usage{InputTokens: 1500, CachedInputTokens: 1280, OutputTokens: 200, Calls: 1}},
		{"deepseek with details", `{"prompt_tokens":1500,"completion_tokens":200,"total_tokens":1700,"prompt_tokens_details":{"cached_tokens":1280},"prompt_cache_hit_tokens":1280,"prompt_cache_miss_tokens":220}`,
			providers.Usage{InputTokens: 1500, CachedInputTokens: 1280, OutputTokens: 200, Calls: 1}},
		{"deepseek, all missed", `{"prompt_tokens":700,"completion_tokens":20,"total_tokens":720,"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":700}`,
			providers.Usage{InputTokens: 700, OutputTokens: 20, Calls: 1}},
		{"openrouter", `{"prompt_tokens":1940,"completion_tokens":2,"total_tokens":1942,"cost":0.000095,"is_byok":false,"prompt_tokens_details":{"cached_tokens":1792,"audio_tokens":0},"cost_details":{"upstream_inference_cost":null},"completion_tokens_details":{"reasoning_tokens":0,"image_tokens":0}}`,
			providers.Usage{InputTokens: 1940, CachedInputTokens: 1792, OutputTokens: 2, CostUSD: 0.000095, Calls: 1}},
		{"ark", `{"completion_tokens":120,"prompt_tokens":3000,"total_tokens":3120,"prompt_tokens_details":{"cached_tokens":2048},"completion_tokens_details":{"reasoning_tokens":0}}`,
			providers.Usage{InputTokens: 3000, CachedInputTokens: 2048, OutputTokens: 120, Calls: 1}},
		{"ollama, no cache fields", `{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55}`,
			providers.Usage{InputTokens: 50, OutputTokens: 5, Calls: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = io.WriteString(w, head+`data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[],"usage":`+tc.usage+"}\n\ndata: [DONE]\n\n")
			}))
			defer srv.Close()
			c := newClient(t, srv.URL+"/v1", nil)
			resp, err := c.Stream(context.Background(), userReq("hello"), func(providers.Delta) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage != tc.want {
				t.Errorf("usage %+v, want %+v", resp.Usage, tc.want)
			}
		})
	}
}

// TestSimulatedCache: against the fake computing cached tokens by the
// prefix rule, the second of two calls sharing a long prefix reports it
// cached, in OpenAI's and in DeepSeek's fields.
func TestSimulatedCache(t *testing.T) {
	for _, deepSeek := range []bool{false, true} {
		fake := providertest.NewOpenAI(t)
		fake.SimulateCache(promptcache.DeepSeek(), deepSeek)
		c := newClient(t, fake.BaseURL(), nil)
		shared := strings.Repeat("Bayar (craftsman): red paper folds well. ", 60)
		var us []providers.Usage
		for _, who := range []string{"You are Bayar.", "You are Aygul."} {
			resp, err := c.Stream(context.Background(), providers.Request{Messages: []providers.Message{
				{Role: providers.RoleSystem, Content: "rules"}, {Role: providers.RoleUser, Content: shared},
				{Role: providers.RoleSystem, Content: who}, {Role: providers.RoleUser, Content: "Speak."}}},
				func(providers.Delta) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			us = append(us, resp.Usage)
		}
		if us[0].CachedInputTokens != 0 || us[1].CachedInputTokens < 500 || us[1].CachedInputTokens%64 != 0 ||
			us[1].InputTokens != us[0].InputTokens {
			t.Errorf("deepSeek=%v: usages %+v", deepSeek, us)
		}
	}
}
