package setup_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/providertest"
	"github.com/tableround/tableround/providers/setup"
)

func load(t *testing.T, env map[string]string) (setup.Config, error) {
	t.Helper()
	return setup.Load(context.Background(), envconfig.MapLookuper(env))
}

type demo struct{}

func (demo) Stream(context.Context, providers.Request, providers.StreamFunc) (providers.Response, error) {
	return providers.Response{Text: "demo"}, nil
}

func TestAgentModelsParse(t *testing.T) {
	cfg, err := load(t, map[string]string{"AGENT_MODELS": "craftsman=openai/gpt-4o:beta,designer=x", "AI_FALLBACK": "deepseek, openai"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AgentModels["craftsman"] != "openai/gpt-4o:beta" || cfg.AgentModels["designer"] != "x" || len(cfg.AgentModels) != 2 {
		t.Errorf("AgentModels = %v", cfg.AgentModels)
	}
	if len(cfg.Fallback) != 2 || cfg.Fallback[1] != "openai" {
		t.Errorf("Fallback = %q", cfg.Fallback)
	}
	_, err = load(t, map[string]string{"AGENT_MODELS": "craftsman"})
	var ce *setup.ConfigError
	if !errors.As(err, &ce) || ce.Variable != "AGENT_MODELS" {
		t.Errorf("err = %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name, wantVar, wantMsg string
		env                    map[string]string
	}{
		{"missing key", "OPENROUTER_API_KEY", "OPENROUTER_API_KEY is not set (AI_PROVIDER=openrouter)", map[string]string{"AI_PROVIDER": "openrouter"}},
		{"missing gemini key", "GEMINI_API_KEY", "GEMINI_API_KEY is not set (AI_PROVIDER=gemini)", map[string]string{"AI_PROVIDER": "gemini"}},
		{"bad url", "AI_BASE_URL", `AI_BASE_URL "foo" is not a valid http(s) URL`, map[string]string{"AI_BASE_URL": "foo", "AI_API_KEY": "k"}},
		{"unknown provider", "AI_PROVIDER", `AI_PROVIDER "claude"`, map[string]string{"AI_PROVIDER": "claude"}},
		{"custom server needs AI_API_KEY", "AI_API_KEY", "AI_API_KEY is not set", map[string]string{"AI_BASE_URL": "https://llm.example.com/v1"}},
		{"fallback key", "DEEPSEEK_API_KEY", "DEEPSEEK_API_KEY is not set (AI_FALLBACK=deepseek)", map[string]string{"OPENROUTER_API_KEY": "k", "AI_FALLBACK": "deepseek"}},
		{"bad image provider", "IMAGE_PROVIDER", "IMAGE_PROVIDER", map[string]string{"OPENROUTER_API_KEY": "k", "IMAGE_PROVIDER": "midjourney"}},
		{"image key", "OPENAI_API_KEY", "OPENAI_API_KEY is not set (IMAGE_PROVIDER=openai)", map[string]string{"OPENROUTER_API_KEY": "k", "IMAGE_PROVIDER": "openai"}},
		{"unknown seat", "AGENT_MODELS", `seat "chef"`, map[string]string{"OPENROUTER_API_KEY": "k", "AGENT_MODELS": "chef=x"}},
		{"bad vision provider", "VISION_PROVIDER", "VISION_PROVIDER", map[string]string{"DEEPSEEK_API_KEY": "k", "AI_PROVIDER": "deepseek", "VISION_PROVIDER": "bogus"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			_, err = setup.Build(cfg, setup.Options{Seats: []string{"craftsman", "designer"}})
			var ce *setup.ConfigError
			if !errors.As(err, &ce) || ce.Variable != tc.wantVar || !strings.Contains(err.Error(), tc.wantMsg) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v (%#v)", err, ce)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	tests := []struct {
		name          string
		env           map[string]string
		provider      string
		model         string
		visionModel   string
		visionWarning bool
		images        string
		demo          bool
	}{
		{name: "defaults", env: map[string]string{"OPENROUTER_API_KEY": "k"}, provider: "openrouter",
			model: "deepseek/deepseek-chat-v3.1", visionModel: "google/gemini-2.5-flash", images: "none"},
		{name: "ollama needs no key", env: map[string]string{"AI_PROVIDER": "ollama"}, provider: "ollama",
			model: "qwen2.5:7b", visionModel: "qwen2.5vl:7b", images: "none"},
		{name: "loopback custom server needs no key", env: map[string]string{"AI_BASE_URL": fake.BaseURL(), "AI_MODEL": "local"},
			provider: "openai", model: "local", visionModel: "gpt-4o-mini", images: "none"},
		{name: "deepseek cannot see", env: map[string]string{"AI_PROVIDER": "deepseek", "DEEPSEEK_API_KEY": "k"}, provider: "deepseek",
			model: "deepseek-chat", visionModel: "deepseek-chat", visionWarning: true, images: "none"},
		{name: "doubao images when its key is set", env: map[string]string{"GEMINI_API_KEY": "k", "AI_PROVIDER": "gemini", "DOUBAO_API_KEY": "d"},
			provider: "gemini", model: "gemini-2.5-flash", visionModel: "gemini-2.5-flash", images: "doubao"},
		{name: "demo", env: map[string]string{"AI_PROVIDER": "demo"}, provider: "demo", model: "demo", images: "none", demo: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			m, err := setup.Build(cfg, setup.Options{Demo: demo{}})
			if err != nil {
				t.Fatal(err)
			}
			if m.Provider != tc.provider || m.Model != tc.model || m.ImageProvider != tc.images || m.Demo != tc.demo ||
				(!tc.demo && m.VisionModel != tc.visionModel) || (m.VisionWarning != "") != tc.visionWarning {
				t.Errorf("models %+v", m)
			}
			if (m.Images != nil) != (tc.images != "none") || m.Chat == nil {
				t.Errorf("images %v chat %v", m.Images, m.Chat)
			}
		})
	}
}

func TestSeatModelAndAIKey(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	cfg, err := load(t, map[string]string{"AI_PROVIDER": "openrouter", "AI_BASE_URL": fake.BaseURL(), "AI_API_KEY": "ai-key",
		"OPENROUTER_API_KEY": "or-key", "AGENT_MODELS": "craftsman=openai/gpt-4o:beta"})
	if err != nil {
		t.Fatal(err)
	}
	if !setup.Configured(cfg) {
		t.Error("not Configured")
	}
	m, err := setup.Build(cfg, setup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seat, name := m.Seat("craftsman")
	if seat == nil || name != "openrouter/openai/gpt-4o:beta" {
		t.Fatalf("seat %v %q", seat, name)
	}
	if other, _ := m.Seat("designer"); other != nil {
		t.Error("designer has no override")
	}
	if _, err := seat.Stream(context.Background(), providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "hi"}}},
		func(providers.Delta) error { return nil }); err != nil {
		t.Fatal(err)
	}
	r := fake.Requests()[0]
	if r.JSON()["model"] != "openai/gpt-4o:beta" || r.Header.Get("Authorization") != "Bearer ai-key" {
		t.Errorf("model %v auth %q", r.JSON()["model"], r.Header.Get("Authorization"))
	}
}

func TestConfigured(t *testing.T) {
	for env, want := range map[string]bool{"": false, "AI_PROVIDER": true, "AI_BASE_URL": true, "GEMINI_API_KEY": true, "AI_MODEL": false} {
		m := map[string]string{}
		if env != "" {
			m[env] = "x"
		}
		cfg, _ := load(t, m)
		if got := setup.Configured(cfg); got != want {
			t.Errorf("Configured with %q = %v", env, got)
		}
	}
}

func TestProvidersAndCircuits(t *testing.T) {
	cfg, err := load(t, map[string]string{"AI_PROVIDER": "deepseek", "DEEPSEEK_API_KEY": "k", "AI_FALLBACK": "openrouter,deepseek",
		"OPENROUTER_API_KEY": "o", "VISION_PROVIDER": "gemini", "GEMINI_API_KEY": "g"})
	if err != nil {
		t.Fatal(err)
	}
	var opened []string
	m, err := setup.Build(cfg, setup.Options{OnBreakerOpen: func(p string) { opened = append(opened, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Providers(), ","); got != "deepseek,openrouter,gemini" {
		t.Errorf("Providers() = %s (vision %s)", got, m.VisionProvider)
	}
	for _, p := range m.Providers() {
		if m.Circuits()[p] != "closed" {
			t.Errorf("circuit of %s = %q in %v", p, m.Circuits()[p], m.Circuits())
		}
	}
	if len(opened) != 0 {
		t.Errorf("opened before any call: %v", opened)
	}
}
