package setup_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/providertest"
	"github.com/tableround/tableround/providers/setup"
)

func TestLLMConcurrencyConfig(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    int
		wantErr bool
	}{
		{name: "default", want: 16},
		{name: "set", value: "3", want: 3},
		{name: "negative", value: "-1", want: -1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"OPENROUTER_API_KEY": "k"}
			if tc.value != "" {
				env["LLM_CONCURRENCY"] = tc.value
			}
			cfg, err := load(t, env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LLMConcurrency != tc.want {
				t.Errorf("LLMConcurrency = %d, want %d", cfg.LLMConcurrency, tc.want)
			}
			_, err = setup.Build(cfg, setup.Options{})
			var ce *setup.ConfigError
			if gotErr := errors.As(err, &ce) && ce.Variable == "LLM_CONCURRENCY"; gotErr != tc.wantErr {
				t.Errorf("Build: %v", err)
			}
		})
	}
}

// Chat and vision calls to one provider share its LLM_CONCURRENCY slots.
func TestLLMConcurrencyPerProvider(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	fake.Barrier(2) // requests wait until two are open: the cap is reached, never passed
	cfg, err := load(t, map[string]string{"AI_BASE_URL": fake.BaseURL(), "AI_MODEL": "local", "VISION_MODEL": "local-vision",
		"LLM_CONCURRENCY": "2"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := setup.Build(cfg, setup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		model := m.Chat
		if i%2 == 1 {
			model = m.Vision
		}
		ctx := providers.WithQueue(context.Background(), []string{"a", "b"}[i%2], nil)
		wg.Go(func() {
			_, err := model.Stream(ctx, providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "hi"}}},
				func(providers.Delta) error { return nil })
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := fake.MaxOpen(); got != 2 {
		t.Errorf("%d requests open at once, want 2", got)
	}
	if got := len(fake.Requests()); got != 8 {
		t.Errorf("%d requests, want 8", got)
	}
}
