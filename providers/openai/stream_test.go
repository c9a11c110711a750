package openai_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/openai"
	"github.com/tableround/tableround/providers/providertest"
)

func newClient(t *testing.T, base string, mod func(*openai.Config)) *openai.Client {
	t.Helper()
	cfg := openai.OpenRouter().Config("sk-or-secret-key")
	cfg.BaseURL = base
	cfg.FirstByteTimeout, cfg.IdleTimeout = 2*time.Second, 200*time.Millisecond
	if mod != nil {
		mod(&cfg)
	}
	c, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type collected struct {
	text, reasoning string
	resets          int
}

func (c *collected) fn(d providers.Delta) error {
	if d.Reset {
		c.resets++
		c.text = ""
	}
	c.text += d.Text
	c.reasoning += d.Reasoning
	return nil
}

func userReq(text string) providers.Request {
	return providers.Request{Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: "be brief"}, {Role: providers.RoleUser, Content: text}}}
}

func TestStream(t *testing.T) {
	tests := []struct {
		name          string
		reply         providertest.Reply
		wantText      string
		wantReasoning string
		wantResets    int
		wantKind      providers.Kind
		check         func(t *testing.T, resp providers.Response, err error)
	}{
		{name: "plain", reply: providertest.Reply{Text: "Hello there, table.", Before: []string{": OPENROUTER PROCESSING"},
			Usage: &providertest.Usage{PromptTokens: 12, CompletionTokens: 5, Cost: 0.0012}},
			wantText: "Hello there, table.",
			check: func(t *testing.T, resp providers.Response, err error) {
				if resp.Usage.InputTokens != 12 || resp.Usage.OutputTokens != 5 || resp.Usage.CostUSD != 0.0012 || resp.Usage.Calls != 1 {
					t.Errorf("usage %+v", resp.Usage)
				}
				if resp.FinishReason != "stop" || resp.Provider != "openrouter" || resp.Model != "fake-model" {
					t.Errorf("resp %+v", resp)
				}
			}},
		{name: "think split across chunks", reply: providertest.Reply{Chunks: []string{"<th", "ink>plan ", "it</thi", "nk>\n\nAnswer", " here"}},
			wantText: "Answer here", wantReasoning: "plan it"},
		{name: "bare close think", reply: providertest.Reply{Chunks: []string{"I should ", "greet.</", "think>Hi all"}},
			wantText: "Hi all", wantReasoning: "I should greet.", wantResets: 1},
		{name: "openrouter reasoning", reply: providertest.Reply{Reasoning: "let me think", Text: "Done."},
			wantText: "Done.", wantReasoning: "let me think"},
		{name: "deepseek reasoning_content", reply: providertest.Reply{Reasoning: "hmm", ReasoningField: "reasoning_content", Text: "Yes."},
			wantText: "Yes.", wantReasoning: "hmm"},
		{name: "reasoning used the budget", reply: providertest.Reply{Reasoning: "long thoughts", FinishReason: "length"},
			wantKind: providers.KindEmpty},
		{name: "error inside 200 stream", reply: providertest.Reply{Text: "partial",
			After: []string{`data: {"error":{"code":502,"message":"upstream died"},"choices":[{"delta":{},"finish_reason":"error"}]}`}},
			wantKind: providers.KindServer},
		{name: "malformed chunk", reply: providertest.Reply{Before: []string{"data: {not json"}, Text: "x"},
			wantKind: providers.KindMalformed},
		{name: "cut mid-stream", reply: providertest.Reply{Text: "one two three four five", CutAfter: 2},
			wantKind: providers.KindNetwork},
		{name: "clean EOF without DONE or finish", reply: providertest.Reply{Text: "abc", NoDone: true, FinishReason: "x"},
			wantText: "abc"},
		{name: "stall", reply: providertest.Reply{Text: "one two three four", StallAfter: 1},
			wantKind: providers.KindTimeout,
			check: func(t *testing.T, _ providers.Response, err error) {
				if !strings.Contains(err.Error(), "stalled") {
					t.Errorf("err = %v", err)
				}
			}},
		{name: "401 names the variable", reply: providertest.Reply{Status: 401, Body: providertest.ErrorBody(401, "No auth credentials found")},
			wantKind: providers.KindAuth,
			check: func(t *testing.T, _ providers.Response, err error) {
				if !strings.Contains(err.Error(), "OPENROUTER_API_KEY") || strings.Contains(err.Error(), "sk-or-secret-key") {
					t.Errorf("err = %v", err)
				}
			}},
		{name: "402", reply: providertest.Reply{Status: 402, Body: providertest.ErrorBody(402, "Insufficient credits")}, wantKind: providers.KindNoCredits},
		{name: "400 content policy", reply: providertest.Reply{Status: 400, Body: providertest.ErrorBody("content_policy_violation", "no")}, wantKind: providers.KindRefusal},
		{name: "404", reply: providertest.Reply{Status: 404, Body: providertest.ErrorBody(404, "model not found")}, wantKind: providers.KindBadRequest},
		{name: "500", reply: providertest.Reply{Status: 500, Body: "oops"}, wantKind: providers.KindServer},
		{name: "429 seconds", reply: providertest.Reply{Status: 429, Header: map[string]string{"Retry-After": "7"}, Body: "slow down"},
			wantKind: providers.KindRateLimit,
			check: func(t *testing.T, _ providers.Response, err error) {
				var pe *providers.Error
				if !errors.As(err, &pe) || pe.RetryAfter != 7*time.Second {
					t.Errorf("err = %#v", err)
				}
			}},
		{name: "long line beyond 64KB", reply: providertest.Reply{Chunks: []string{strings.Repeat("a", 100_000)}},
			wantText: strings.Repeat("a", 100_000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOpenAI(t, tc.reply)
			c := newClient(t, fake.BaseURL(), nil)
			var got collected
			resp, err := c.Stream(context.Background(), userReq("hi"), got.fn)
			if tc.wantKind != providers.KindUnknown {
				if k := providers.KindOf(err); k != tc.wantKind {
					t.Fatalf("kind = %v, err = %v", k, err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				if got.text != tc.wantText || resp.Text != tc.wantText {
					t.Errorf("streamed %q, response %q, want %q", got.text, resp.Text, tc.wantText)
				}
				if got.reasoning != tc.wantReasoning || resp.Reasoning != tc.wantReasoning {
					t.Errorf("reasoning streamed %q, response %q, want %q", got.reasoning, resp.Reasoning, tc.wantReasoning)
				}
				if got.resets != tc.wantResets {
					t.Errorf("resets = %d, want %d", got.resets, tc.wantResets)
				}
			}
			if tc.check != nil {
				tc.check(t, resp, err)
			}
		})
	}
}

func TestRequestBody(t *testing.T) {
	img := []byte("\x89PNG\r\n\x1a\nfake-png-bytes")
	tests := []struct {
		name, model string
		wantField   string
	}{
		{"chat model takes max_tokens", "deepseek/deepseek-chat-v3.1", "max_tokens"},
		{"gpt-5 takes max_completion_tokens", "gpt-5-mini", "max_completion_tokens"},
		{"o-series takes max_completion_tokens", "openai/o4-mini", "max_completion_tokens"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOpenAI(t)
			c := newClient(t, fake.BaseURL(), nil)
			req := providers.Request{Model: tc.model, MaxTokens: 300, Messages: []providers.Message{
				{Role: providers.RoleUser, Content: "what is this?", Images: []providers.Image{{MIME: "image/png", Data: img}}}}}
			if _, err := c.Stream(context.Background(), req, func(providers.Delta) error { return nil }); err != nil {
				t.Fatal(err)
			}
			r := fake.Requests()[0]
			if r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-or-secret-key" ||
				r.Header.Get("X-OpenRouter-Title") != "TableRound" || r.Header.Get("HTTP-Referer") == "" {
				t.Errorf("path %s headers %v", r.Path, r.Header)
			}
			var body struct {
				Model         string         `json:"model"`
				Stream        bool           `json:"stream"`
				StreamOptions map[string]any `json:"stream_options"`
				Messages      []struct {
					Content []struct {
						Type     string `json:"type"`
						Text     string `json:"text"`
						ImageURL struct {
							URL string `json:"url"`
						} `json:"image_url"`
					} `json:"content"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			raw := r.JSON()
			if raw[tc.wantField] != float64(300) || len(raw) != 5 {
				t.Errorf("body fields %v", raw)
			}
			if body.Model != tc.model || !body.Stream || body.StreamOptions["include_usage"] != true {
				t.Errorf("body %s", r.Body)
			}
			parts := body.Messages[0].Content
			if len(parts) != 2 || parts[0].Type != "text" || parts[1].Type != "image_url" {
				t.Fatalf("parts %+v", parts)
			}
			b64, ok := strings.CutPrefix(parts[1].ImageURL.URL, "data:image/png;base64,")
			data, err := base64.StdEncoding.DecodeString(b64)
			if !ok || err != nil || string(data) != string(img) {
				t.Errorf("image url %q", parts[1].ImageURL.URL)
			}
		})
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if d := providers.ParseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now); d != 90*time.Second {
		t.Errorf("got %v", d)
	}
}

func TestFirstByteTimeout(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	fake.Barrier(2) // the only request waits forever: no first byte
	c := newClient(t, fake.BaseURL(), func(cfg *openai.Config) { cfg.FirstByteTimeout = 50 * time.Millisecond })
	_, err := c.Stream(context.Background(), userReq("hi"), func(providers.Delta) error { return nil })
	if providers.KindOf(err) != providers.KindTimeout || !strings.Contains(err.Error(), "no reply within") {
		t.Fatalf("err = %v", err)
	}
}

func TestConsumerErrorStopsStream(t *testing.T) {
	fake := providertest.NewOpenAI(t, providertest.TextReply("a long reply in many chunks"))
	c := newClient(t, fake.BaseURL(), nil)
	stop := errors.New("stop")
	_, err := c.Stream(context.Background(), userReq("hi"), func(providers.Delta) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, base := range []string{"", "foo", "ftp://x", "http://user:pw@host/v1"} {
		cfg := openai.DefaultConfig()
		cfg.BaseURL = base
		if _, err := openai.New(cfg); err == nil {
			t.Errorf("New accepted base %q", base)
		}
	}
	cfg := openai.DefaultConfig()
	cfg.HTTPClient = &http.Client{Timeout: time.Second}
	if _, err := openai.New(cfg); err == nil {
		t.Error("New accepted an http.Client.Timeout")
	}
}

// TestRequestBodyAfterRedirect: the request body is let go of once sent,
// so a 307 redirect (a proxy moving the endpoint) must rebuild it whole.
func TestRequestBodyAfterRedirect(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, fake.BaseURL()+"/chat/completions", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	c := newClient(t, redirect.URL, nil)
	var got collected
	if _, err := c.Stream(context.Background(), userReq("hello after a redirect"), got.fn); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), "hello after a redirect") || got.text == "" {
		t.Fatalf("requests %d, body %q, text %q", len(reqs), reqs[0].Body, got.text)
	}
}
