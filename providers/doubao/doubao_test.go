package doubao_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/doubao"
	"github.com/tableround/tableround/providers/providertest"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name      string
		format    string
		watermark bool
		reply     providertest.ArkReply
		wantKind  providers.Kind
		wantURL   bool
	}{
		{name: "url is downloaded", format: "url", reply: providertest.ArkReply{Images: [][]byte{providertest.PNG()}}, wantURL: true},
		{name: "b64_json", format: "b64_json", watermark: true, reply: providertest.ArkReply{Images: [][]byte{providertest.PNG()}}},
		{name: "content policy is a refusal", format: "url", reply: providertest.ArkReply{Status: 400,
			Body: `{"error":{"code":"OutputImageSensitiveContentDetected","message":"The request failed because the output image may contain sensitive information.","type":"BadRequest"}}`},
			wantKind: providers.KindRefusal},
		{name: "other 400", format: "url", reply: providertest.ArkReply{Status: 400,
			Body: `{"error":{"code":"InvalidParameter","message":"size is invalid"}}`}, wantKind: providers.KindBadRequest},
		{name: "401", format: "url", reply: providertest.ArkReply{Status: 401, Body: `{"error":{"code":"AuthenticationError"}}`}, wantKind: providers.KindAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewArk(t, tc.reply)
			cfg := doubao.DefaultConfig()
			cfg.BaseURL, cfg.APIKey, cfg.ResponseFormat, cfg.Watermark = fake.BaseURL(), "ark-secret", tc.format, tc.watermark
			c, err := doubao.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			imgs, usage, err := c.Generate(context.Background(), providers.ImageRequest{Prompt: "a red paper lantern"})
			if k := providers.KindOf(err); k != tc.wantKind {
				t.Fatalf("kind %v err %v", k, err)
			}
			r := fake.Requests()[0]
			body := r.JSON()
			if r.Path != "/api/v3/images/generations" || r.Header.Get("Authorization") != "Bearer ark-secret" {
				t.Errorf("request %s %v", r.Path, r.Header)
			}
			if w, ok := body["watermark"]; !ok || w != tc.watermark {
				t.Errorf("watermark field %v (present %v)", w, ok)
			}
			if body["model"] != doubao.DefaultModel || body["size"] != "1024x1024" || body["response_format"] != tc.format {
				t.Errorf("body %s", r.Body)
			}
			if err != nil {
				if strings.Contains(err.Error(), "ark-secret") {
					t.Error("key in error")
				}
				return
			}
			if len(imgs) != 1 || !bytes.Equal(imgs[0].Data, providertest.PNG()) || imgs[0].MIME != "image/png" {
				t.Fatalf("images %+v", imgs)
			}
			if (imgs[0].SourceURL != "") != tc.wantURL || usage.Calls != 1 || usage.OutputTokens == 0 {
				t.Errorf("source %q usage %+v", imgs[0].SourceURL, usage)
			}
		})
	}
}

func TestDownloadCap(t *testing.T) {
	fake := providertest.NewArk(t, providertest.ArkReply{Images: [][]byte{bytes.Repeat(providertest.PNG(), 100)}})
	cfg := doubao.DefaultConfig()
	cfg.BaseURL, cfg.ResponseFormat, cfg.MaxImageBytes = fake.BaseURL(), "url", 64
	c, _ := doubao.New(cfg)
	if _, _, err := c.Generate(context.Background(), providers.ImageRequest{Prompt: "x"}); err == nil {
		t.Fatal("oversized download accepted")
	}
}
