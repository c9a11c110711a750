package gemini_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/gemini"
	"github.com/tableround/tableround/providers/providertest"
)

func TestStream(t *testing.T) {
	tests := []struct {
		name      string
		reply     providertest.GeminiReply
		wantText  string
		wantThink string
		wantKind  providers.Kind
		wantVar   bool
	}{
		{name: "text", reply: providertest.GeminiReply{Text: "Paper lanterns glow."}, wantText: "Paper lanterns glow."},
		{name: "thought parts", reply: providertest.GeminiReply{Thought: "consider", Text: "Yes."}, wantText: "Yes.", wantThink: "consider"},
		{name: "safety", reply: providertest.GeminiReply{Text: "par", FinishReason: "SAFETY"}, wantKind: providers.KindRefusal},
		{name: "prompt blocked", reply: providertest.GeminiReply{BlockReason: "PROHIBITED_CONTENT"}, wantKind: providers.KindRefusal},
		{name: "max tokens no text", reply: providertest.GeminiReply{FinishReason: "MAX_TOKENS"}, wantKind: providers.KindEmpty},
		{name: "cut", reply: providertest.GeminiReply{Text: "a b c d e f g h", CutAfter: 1}, wantKind: providers.KindNetwork},
		{name: "bad key is 400", reply: providertest.GeminiReply{Status: 400,
			Body: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}`},
			wantKind: providers.KindAuth, wantVar: true},
		{name: "503", reply: providertest.GeminiReply{Status: 503, Body: `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`},
			wantKind: providers.KindServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewGemini(t, tc.reply)
			cfg := gemini.DefaultConfig()
			cfg.BaseURL, cfg.APIKey = fake.URL, "AIza-secret-key"
			c, err := gemini.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var text, think string
			resp, err := c.Stream(context.Background(), providers.Request{Messages: []providers.Message{
				{Role: providers.RoleSystem, Content: "persona"},
				{Role: providers.RoleUser, Content: "look", Images: []providers.Image{{MIME: "image/jpeg", Data: []byte("\xff\xd8jpeg")}}},
				{Role: providers.RoleAssistant, Content: "earlier"},
				{Role: providers.RoleUser, Content: "go on"},
			}}, func(d providers.Delta) error { text += d.Text; think += d.Reasoning; return nil })
			if k := providers.KindOf(err); k != tc.wantKind {
				t.Fatalf("kind %v, err %v", k, err)
			}
			if err != nil {
				if strings.Contains(err.Error(), "AIza-secret-key") || (tc.wantVar && !strings.Contains(err.Error(), "GEMINI_API_KEY")) {
					t.Errorf("err = %v", err)
				}
				return
			}
			if text != tc.wantText || resp.Text != tc.wantText || think != tc.wantThink || resp.Usage.InputTokens != 10 {
				t.Errorf("text %q resp %+v think %q", text, resp, think)
			}
			r := fake.Requests()[0]
			if r.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || r.Header.Get("X-Query") != "alt=sse" ||
				r.Header.Get("x-goog-api-key") != "AIza-secret-key" {
				t.Errorf("request %s ? %s, headers %v", r.Path, r.Header.Get("X-Query"), r.Header)
			}
			var body struct {
				SystemInstruction struct{ Parts []struct{ Text string } } `json:"systemInstruction"`
				Contents          []struct {
					Role  string `json:"role"`
					Parts []struct {
						Text       string `json:"text"`
						InlineData *struct {
							MimeType string `json:"mime_type"`
							Data     string `json:"data"`
						} `json:"inline_data"`
					} `json:"parts"`
				} `json:"contents"`
				GenerationConfig map[string]any `json:"generationConfig"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.SystemInstruction.Parts[0].Text != "persona" || len(body.Contents) != 3 ||
				body.Contents[0].Role != "user" || body.Contents[1].Role != "model" {
				t.Errorf("body %s", r.Body)
			}
			id := body.Contents[0].Parts[1].InlineData
			data, _ := base64.StdEncoding.DecodeString(id.Data)
			if id.MimeType != "image/jpeg" || string(data) != "\xff\xd8jpeg" {
				t.Errorf("inline data %+v", id)
			}
			if body.GenerationConfig["thinkingConfig"] == nil || body.GenerationConfig["maxOutputTokens"] != float64(1024) {
				t.Errorf("generationConfig %v", body.GenerationConfig)
			}
		})
	}
}
