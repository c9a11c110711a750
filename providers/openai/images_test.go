package openai_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/openai"
	"github.com/tableround/tableround/providers/providertest"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		model        string
		n            int
		wantRequests int
		wantFormat   any
	}{
		{"gpt-image-1", 1, 1, nil},
		{"dall-e-3", 2, 2, "b64_json"},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			fake := providertest.NewArk(t) // same wire format as the Images API
			cfg := openai.OpenAI().Config("sk-test")
			cfg.BaseURL = fake.BaseURL()
			c, err := openai.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			imgs, _, err := c.Generate(context.Background(), providers.ImageRequest{Model: tc.model, Prompt: "lantern", N: tc.n})
			if err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests()
			if len(imgs) != tc.n || len(reqs) != tc.wantRequests || !bytes.Equal(imgs[0].Data, providertest.PNG()) {
				t.Fatalf("%d images, %d requests", len(imgs), len(reqs))
			}
			for _, r := range reqs {
				body := r.JSON()
				if body["response_format"] != tc.wantFormat || body["model"] != tc.model {
					t.Errorf("body %s", r.Body)
				}
			}
		})
	}
}
