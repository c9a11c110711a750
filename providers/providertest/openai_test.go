package providertest_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/openai"
	"github.com/tableround/tableround/providers/providertest"
)

// TestBarrier proves the barrier releases only when n requests are open:
// three concurrent calls finish, and the fake saw all three at once.
func TestBarrier(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	fake.Barrier(3)
	fake.RespondWith(func(r providertest.Request) providertest.Reply {
		return providertest.TextReply("re: " + providertest.LastUserText(r.Body))
	})
	cfg := openai.Ollama().Config("")
	cfg.BaseURL = fake.BaseURL()
	c, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	texts := make([]string, 3)
	for i, q := range []string{"a", "b", "c"} {
		wg.Go(func() {
			resp, err := c.Stream(context.Background(), providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: q}}},
				func(providers.Delta) error { return nil })
			if err != nil {
				t.Error(err)
			}
			texts[i] = resp.Text
		})
	}
	wg.Wait()
	if fake.MaxOpen() != 3 || texts[0] != "re: a" || texts[2] != "re: c" {
		t.Errorf("max open %d texts %q", fake.MaxOpen(), texts)
	}
}
