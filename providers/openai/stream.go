package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tableround/tableround/providers"
)

type chatRequest struct {
	Model               string         `json:"model"`
	Messages            []wireMessage  `json:"messages"`
	Stream              bool           `json:"stream"`
	StreamOptions       *streamOptions `json:"stream_options,omitempty"`
	MaxTokens           int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64       `json:"temperature,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type wireMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"` // a string, or []contentPart with images
}

type contentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
}

type imageURL struct {
	URL string `json:"url"`
}

type chunk struct {
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Content          string `json:"content"`
			Reasoning        string `json:"reasoning"`
			ReasoningContent string `json:"reasoning_content"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *wireUsage      `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// wireUsage is the usage object of the OpenAI-compatible servers. They
// differ in how they report the prompt cache:
//   - OpenAI, OpenRouter and Ark (Doubao): prompt_tokens_details.cached_tokens
//     (https://platform.openai.com/docs/guides/prompt-caching,
//     https://openrouter.ai/docs/use-cases/usage-accounting);
//   - DeepSeek: prompt_cache_hit_tokens and prompt_cache_miss_tokens, whose
//     sum is prompt_tokens (https://api-docs.deepseek.com/guides/kv_cache).
//
// OpenRouter adds cost, in US dollars, with the cache discount applied.
type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	PromptCacheHitTokens  *int     `json:"prompt_cache_hit_tokens"`
	PromptCacheMissTokens *int     `json:"prompt_cache_miss_tokens"`
	Cost                  *float64 `json:"cost"`
}

// into copies the usage into the neutral type.
func (w *wireUsage) into(u *providers.Usage) {
	u.InputTokens, u.OutputTokens = w.PromptTokens, w.CompletionTokens
	switch {
	case w.PromptTokensDetails != nil && w.PromptTokensDetails.CachedTokens > 0:
		u.CachedInputTokens = w.PromptTokensDetails.CachedTokens
	case w.PromptCacheHitTokens != nil:
		u.CachedInputTokens = *w.PromptCacheHitTokens
		if w.PromptTokens == 0 && w.PromptCacheMissTokens != nil {
			u.InputTokens = *w.PromptCacheHitTokens + *w.PromptCacheMissTokens
		}
	}
	u.CachedInputTokens = min(u.CachedInputTokens, u.InputTokens)
	if w.Cost != nil {
		u.CostUSD = *w.Cost
	}
}

func (c *Client) model(req providers.Request) string {
	if req.Model != "" {
		return req.Model
	}
	return c.cfg.Model
}

// body builds the JSON request of a chat completion in form f.
func (c *Client) body(req providers.Request, f wireForm) []byte {
	model := c.model(req)
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = c.cfg.MaxTokens
	}
	cr := chatRequest{Model: model, Stream: true, StreamOptions: &streamOptions{IncludeUsage: true}, Temperature: req.Temperature}
	if f.param == MaxCompletionTokens {
		cr.MaxCompletionTokens = maxTokens
	} else {
		cr.MaxTokens = maxTokens
	}
	if f.noTemp {
		cr.Temperature = nil
	}
	for _, m := range req.Messages {
		wm := wireMessage{Role: string(m.Role), Content: m.Content}
		if len(m.Images) > 0 && m.Role == providers.RoleUser {
			parts := []contentPart{{Type: "text", Text: m.Content}}
			for _, img := range m.Images {
				parts = append(parts, contentPart{Type: "image_url", ImageURL: &imageURL{
					URL: "data:" + img.MIME + ";base64," + base64.StdEncoding.EncodeToString(img.Data)}})
			}
			wm.Content = parts
		}
		cr.Messages = append(cr.Messages, wm)
	}
	b, _ := json.Marshal(cr) // plain structs: cannot fail
	return b
}

// Stream sends one streamed chat completion: a single attempt.
func (c *Client) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	model := c.model(req)
	resp := providers.Response{Provider: c.cfg.Provider, Model: model}
	wctx, wd := providers.StartWatchdog(ctx, c.cfg.Provider, c.timeouts())
	defer wd.Stop()

	form := c.formFor(model)
	start := time.Now()
	hresp, err := c.post(ctx, wctx, wd, req, form)
	if err != nil {
		return resp, err
	}
	if hresp.StatusCode == http.StatusBadRequest {
		// A refused token parameter (or temperature): once more in the
		// other form, which is then kept for this model.
		body := providers.ReadExcerpt(hresp.Body)
		hresp.Body.Close()
		hresp.Body = io.NopCloser(bytes.NewReader(body))
		if next, ok := adapt(form, body, req.Temperature != nil); ok {
			if hresp, err = c.post(ctx, wctx, wd, req, next); err != nil {
				return resp, err
			}
			if hresp.StatusCode == http.StatusOK {
				c.forms.Store(model, next)
			}
		}
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		return resp, providers.StatusError(c.cfg.Provider, c.cfg.KeyVariable, hresp, c.cfg.APIKey)
	}
	resp.Usage.Calls = 1
	s := &streamState{c: c, fn: fn, resp: &resp, start: start}
	if err := s.read(ctx, wd, providers.NewSSEReader(hresp.Body)); err != nil {
		return resp, err
	}
	return resp, s.finish()
}

// post sends the chat completion request in form f.
func (c *Client) post(ctx, wctx context.Context, wd *providers.Watchdog, req providers.Request, f wireForm) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(wctx, http.MethodPost, c.cfg.BaseURL+"/chat/completions", nil)
	if err != nil {
		return nil, &providers.Error{Provider: c.cfg.Provider, Kind: providers.KindBadRequest, Message: "build request", Err: err}
	}
	providers.SetStreamBody(hreq, c.body(req, f), func() []byte { return c.body(req, f) })
	c.setHeaders(hreq.Header)
	hreq.Header.Set("Accept", "text/event-stream")
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return nil, wd.Fail(ctx, err)
	}
	return hresp, nil
}

// streamState assembles one streamed reply.
type streamState struct {
	c      *Client
	fn     providers.StreamFunc
	resp   *providers.Response
	start  time.Time
	think  thinkFilter
	text   strings.Builder
	reason strings.Builder
}

func (s *streamState) read(ctx context.Context, wd *providers.Watchdog, r *providers.SSEReader) error {
	provider := s.c.cfg.Provider
	for {
		ev, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if s.resp.FinishReason != "" {
					return nil // some servers omit [DONE] after a finish reason
				}
				return &providers.Error{Provider: provider, Kind: providers.KindNetwork, Message: "stream ended before [DONE]"}
			}
			if errors.Is(err, providers.ErrLineTooLong) {
				return providers.MalformedError(provider, nil, err)
			}
			return wd.Fail(ctx, err)
		}
		wd.Alive()
		if ev.Comment {
			continue
		}
		data := strings.TrimSpace(ev.Data)
		if data == "[DONE]" {
			return nil
		}
		if data == "" {
			continue
		}
		var ch chunk
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			return providers.MalformedError(provider, []byte(data), err)
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			d, _ := providers.ParseErrorDetail([]byte(`{"error":` + string(ch.Error) + `}`))
			e := providers.ClassifyStreamError(provider, s.c.cfg.KeyVariable, d)
			e.Message = providers.Redact(e.Message, s.c.cfg.APIKey)
			return e
		}
		if ch.Model != "" {
			s.resp.Model = ch.Model
		}
		if u := ch.Usage; u != nil {
			u.into(&s.resp.Usage)
		}
		for _, choice := range ch.Choices {
			if choice.FinishReason != "" {
				s.resp.FinishReason = choice.FinishReason
			}
			if err := s.emit(choice.Delta.Content, choice.Delta.Reasoning+choice.Delta.ReasoningContent); err != nil {
				return err
			}
			break // n=1: only the first choice is ours
		}
	}
}

// emit passes content through the <think> filter and on to the consumer.
func (s *streamState) emit(content, reasoning string) error {
	out := s.think.write(content)
	return s.deliver(out, reasoning)
}

func (s *streamState) deliver(out thinkOut, reasoning string) error {
	reasoning += out.Reasoning
	if out.BareClose && s.text.Len() > 0 {
		// What was shown as text was reasoning: withdraw it.
		reasoning = s.text.String() + reasoning
		s.text.Reset()
		s.resp.FirstToken = 0
		if err := s.fn(providers.Delta{Reset: true}); err != nil {
			return err
		}
	}
	text := out.Text
	if s.text.Len() == 0 {
		text = strings.TrimLeft(text, " \t\r\n")
	}
	if text == "" && reasoning == "" {
		return nil
	}
	if text != "" && s.text.Len() == 0 {
		s.resp.FirstToken = time.Since(s.start)
	}
	s.text.WriteString(text)
	s.reason.WriteString(reasoning)
	return s.fn(providers.Delta{Text: text, Reasoning: reasoning})
}

// finish flushes the filter and checks that visible text came.
func (s *streamState) finish() error {
	if err := s.deliver(s.think.flush(), ""); err != nil {
		return err
	}
	s.resp.Text = strings.TrimSpace(s.text.String())
	s.resp.Reasoning = s.reason.String()
	if s.resp.Text == "" {
		msg := "the model returned no text"
		if s.resp.Reasoning != "" {
			msg = "reasoning used the token budget and left no text"
		}
		return &providers.Error{Provider: s.c.cfg.Provider, Kind: providers.KindEmpty, Message: msg + " (finish_reason " + s.resp.FinishReason + ")"}
	}
	return nil
}
