package openai_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/openai"
	"github.com/tableround/tableround/providers/providertest"
)

// refuses answers 400 the way the named server refuses a parameter, and
// streams otherwise.
func refuses(param, body string) func(providertest.Request) providertest.Reply {
	return func(r providertest.Request) providertest.Reply {
		if _, ok := r.JSON()[param]; ok {
			return providertest.Reply{Status: http.StatusBadRequest, Body: body}
		}
		return providertest.TextReply("ok")
	}
}

const (
	openAIRefusesMaxTokens = `{"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}`
	openAIRefusesTemp      = `{"error": {"message": "Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.", "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}}`
	oldServerRefusesMCT    = `{"error": {"message": "Unrecognized request argument supplied: max_completion_tokens", "type": "invalid_request_error"}}`
	someOtherBadRequest    = `{"error": {"message": "messages: too long; max_tokens is fine", "param": "messages"}}`
)

func TestTokenParameterIsLearnedFromRefusals(t *testing.T) {
	temp := 0.7
	tests := []struct {
		name       string
		tokenParam string // Config.TokenParam
		model      string
		refuse     func(providertest.Request) providertest.Reply
		temp       *float64
		wantFirst  string // token parameter of the first request
		wantRetry  string // of the retry; "" means no retry
		wantErr    bool
	}{
		{"OpenAI preset sends max_completion_tokens", openai.MaxCompletionTokens, "gpt-4o-mini", nil, nil, openai.MaxCompletionTokens, "", false},
		{"a reasoning model behind an alias", "", "my-azure-deployment", refuses("max_tokens", openAIRefusesMaxTokens), nil, openai.MaxTokens, openai.MaxCompletionTokens, false},
		{"a server that needs max_tokens", openai.MaxCompletionTokens, "local-model", refuses("max_completion_tokens", oldServerRefusesMCT), nil, openai.MaxCompletionTokens, openai.MaxTokens, false},
		{"a refused temperature", openai.MaxCompletionTokens, "o-alias", refuses("temperature", openAIRefusesTemp), &temp, openai.MaxCompletionTokens, openai.MaxCompletionTokens, false},
		{"another 400 is not retried", "", "m", func(providertest.Request) providertest.Reply {
			return providertest.Reply{Status: http.StatusBadRequest, Body: someOtherBadRequest}
		}, nil, openai.MaxTokens, "", true},
		{"a refusal of both is tried once more only", "", "m", func(providertest.Request) providertest.Reply {
			return providertest.Reply{Status: http.StatusBadRequest, Body: openAIRefusesMaxTokens}
		}, nil, openai.MaxTokens, openai.MaxCompletionTokens, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOpenAI(t)
			if tc.refuse != nil {
				fake.RespondWith(tc.refuse)
			} else {
				fake.RespondWith(func(providertest.Request) providertest.Reply { return providertest.TextReply("ok") })
			}
			c := newClient(t, fake.BaseURL(), func(cfg *openai.Config) { cfg.TokenParam = tc.tokenParam })
			req := userReq("hi")
			req.Model, req.MaxTokens, req.Temperature = tc.model, 300, tc.temp
			_, err := c.Stream(context.Background(), req, func(providers.Delta) error { return nil })
			if (err != nil) != tc.wantErr {
				t.Fatalf("Stream error = %v, want error %v", err, tc.wantErr)
			}
			reqs := fake.Requests()
			want := 1
			if tc.wantRetry != "" {
				want = 2
			}
			if len(reqs) != want {
				t.Fatalf("%d requests, want %d", len(reqs), want)
			}
			check := func(r providertest.Request, param string) {
				t.Helper()
				body := r.JSON()
				other := openai.MaxTokens
				if param == openai.MaxTokens {
					other = openai.MaxCompletionTokens
				}
				if body[param] != float64(300) || body[other] != nil {
					t.Errorf("request sent %v / %v, want only %s=300", body[param], body[other], param)
				}
			}
			check(reqs[0], tc.wantFirst)
			if tc.wantRetry == "" {
				return
			}
			check(reqs[1], tc.wantRetry)
			if tc.temp != nil && reqs[1].JSON()["temperature"] != nil {
				t.Errorf("the retry kept the refused temperature")
			}
			if tc.wantErr {
				return
			}
			// The form is remembered for the model: the next call goes
			// straight to it.
			if _, err := c.Stream(context.Background(), req, func(providers.Delta) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if reqs = fake.Requests(); len(reqs) != 3 {
				t.Fatalf("%d requests after a second call, want 3", len(reqs))
			}
			check(reqs[2], tc.wantRetry)
		})
	}
}
