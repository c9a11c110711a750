package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/providers/providertest"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/transcript"
)

// geminiAnswers answers the native Gemini API like a model would.
func geminiAnswers(t *testing.T) func(providertest.Request) providertest.GeminiReply {
	return func(r providertest.Request) providertest.GeminiReply {
		var body struct {
			SystemInstruction struct {
				Parts []struct{ Text string } `json:"parts"`
			} `json:"systemInstruction"`
			Contents []struct {
				Parts []struct {
					Text       string `json:"text"`
					InlineData any    `json:"inline_data"`
				} `json:"parts"`
			} `json:"contents"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Errorf("gemini fake: %v", err)
		}
		var system, user string
		for _, p := range body.SystemInstruction.Parts {
			system += p.Text
		}
		for _, c := range body.Contents {
			for _, p := range c.Parts {
				user += p.Text
				if p.InlineData != nil {
					t.Errorf("an image reached the chat model; it must go to the vision provider only")
				}
			}
		}
		stage := roundtable.StageOfPrompt(user)
		name := "moderator"
		if m := regexp.MustCompile(`You are ([^,]+),`).FindStringSubmatch(system); m != nil {
			name = m[1]
		}
		text := demo.Reply(providers.Request{Tag: stage + "/" + name + "/en", Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: system}, {Role: providers.RoleUser, Content: user}}})
		return providertest.GeminiReply{Text: text, ChunkSize: 9}
	}
}

// A console session runs with chat on Gemini (native API), vision on an
// OpenAI-compatible provider and images on Ark Seedream.
func TestConsoleWithGeminiAndOtherVisionAndImageProviders(t *testing.T) {
	t.Parallel()
	dir, env := testEnv(t)
	gem := providertest.NewGemini(t)
	gem.RespondWith(geminiAnswers(t))
	vision := newTableFake(t)
	ark := providertest.NewArk(t)
	photo := writePNG(t, dir)
	maps.Copy(env, map[string]string{
		"AI_PROVIDER": "gemini", "AI_BASE_URL": gem.URL, "GEMINI_API_KEY": "gem-secret", "AI_MODEL": "gemini-2.5-flash",
		"VISION_PROVIDER": "openai", "VISION_BASE_URL": vision.BaseURL(), "OPENAI_API_KEY": "oa-secret", "VISION_MODEL": "gpt-4o-mini",
		"IMAGE_PROVIDER": "doubao", "IMAGE_BASE_URL": ark.BaseURL(), "DOUBAO_API_KEY": "ark-secret",
	})
	var out, errb bytes.Buffer
	code := run(context.Background(), envOf(env), []string{"console", "a paper-cut lantern", "--image", photo, "--yes", "--turns", "1"},
		strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, errb.String(), tail(out.String(), 2000))
	}
	id := sessionLine.FindStringSubmatch(out.String())[1]

	greqs := gem.Requests()
	if len(greqs) < 40 {
		t.Fatalf("gemini got %d requests", len(greqs))
	}
	for _, r := range greqs {
		if !strings.Contains(r.Path, ":streamGenerateContent") || !strings.Contains(r.Header.Get("X-Query"), "alt=sse") {
			t.Fatalf("gemini request %s ?%s", r.Path, r.Header.Get("X-Query"))
		}
		if r.Header.Get("X-Goog-Api-Key") != "gem-secret" || strings.Contains(r.Header.Get("X-Query"), "gem-secret") {
			t.Fatal("the Gemini key must travel in the x-goog-api-key header, never the URL")
		}
	}
	vreqs := vision.requests("vision")
	if len(vreqs) != 1 || len(vreqs[0].ImageURLs) != 1 {
		t.Fatalf("vision provider got %d requests", len(vreqs))
	}
	if all := vision.Requests(); len(all) != 1 {
		t.Fatalf("the vision provider must only see the photo once, got %d requests", len(all))
	}
	areqs := ark.Requests()
	if len(areqs) != 1 {
		t.Fatalf("ark got %d requests", len(areqs))
	}
	var gen struct {
		Prompt    string `json:"prompt"`
		Watermark *bool  `json:"watermark"`
	}
	_ = json.Unmarshal(areqs[0].Body, &gen)
	if gen.Watermark == nil || !strings.Contains(gen.Prompt, "a paper-cut lantern") || !strings.Contains(gen.Prompt, "Key elements:") {
		t.Fatalf("image request: %s", areqs[0].Body)
	}

	st := openTestStore(t, dir)
	evs, _ := st.Events(context.Background(), id)
	var images int
	for _, e := range evs {
		if e.Type == transcript.EventFailure {
			t.Fatalf("failure: %s %s", e.Seat, e.Text)
		}
		if e.Type == transcript.EventImage {
			images++
		}
	}
	if images != 1 {
		t.Fatalf("image events = %d", images)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "data", "images", id+"-design-1.*"))
	if len(files) != 1 {
		t.Fatalf("generated image not written: %v", files)
	}
	if b, _ := os.ReadFile(files[0]); !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatal("the generated image bytes were not kept")
	}
	if strings.Contains(out.String()+errb.String(), "secret") {
		t.Fatal("a key leaked into the output")
	}
}
