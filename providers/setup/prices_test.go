package setup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/providertest"
	"github.com/tableround/tableround/providers/setup"
)

// TestModelPrices: a call to a server that reports no cost is priced by
// MODEL_PRICES, with the cached-input discount; a bad entry is an error
// naming the variable.
func TestModelPrices(t *testing.T) {
	fake := providertest.NewOpenAI(t, providertest.Reply{Text: "hi", Model: "local-model",
		Usage: &providertest.Usage{PromptTokens: 2_000_000, CachedTokens: 1_000_000, CompletionTokens: 1_000_000}})
	cfg, err := load(t, map[string]string{"AI_BASE_URL": fake.BaseURL(), "AI_MODEL": "local-model", "MODEL_PRICES": "local-model=1/0.1/2"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := setup.Build(cfg, setup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := m.Chat.Stream(context.Background(), providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "x"}}},
		func(providers.Delta) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if u := resp.Usage; u.CachedInputTokens != 1_000_000 || u.CostUSD != 1+0.1+2 {
		t.Errorf("usage %+v", u)
	}

	cfg, err = load(t, map[string]string{"OPENROUTER_API_KEY": "k", "MODEL_PRICES": "gpt-4o-mini=0.15"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = setup.Build(cfg, setup.Options{})
	var ce *setup.ConfigError
	if !errors.As(err, &ce) || ce.Variable != "MODEL_PRICES" {
		t.Errorf("err = %v", err)
	}
}
