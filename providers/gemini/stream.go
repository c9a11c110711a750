package gemini

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tableround/tableround/providers"
)

type part struct {
	Text       string      `json:"text,omitempty"`
	Thought    bool        `json:"thought,omitempty"`
	InlineData *inlineData `json:"inline_data,omitempty"`
}

type inlineData struct {
	MimeType string `json:"mime_type"`
	Data     string `json:"data"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

type generationConfig struct {
	MaxOutputTokens int             `json:"maxOutputTokens,omitempty"`
	Temperature     *float64        `json:"temperature,omitempty"`
	ThinkingConfig  *thinkingConfig `json:"thinkingConfig,omitempty"`
}

type thinkingConfig struct {
	ThinkingBudget int `json:"thinkingBudget"`
}

type generateRequest struct {
	SystemInstruction *content          `json:"systemInstruction,omitempty"`
	Contents          []content         `json:"contents"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
}

type generateResponse struct {
	Candidates []struct {
		Content      content `json:"content"`
		FinishReason string  `json:"finishReason"`
	} `json:"candidates"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	UsageMetadata *struct {
		PromptTokenCount     int `json:"promptTokenCount"`
		CandidatesTokenCount int `json:"candidatesTokenCount"`
		ThoughtsTokenCount   int `json:"thoughtsTokenCount"`
		// CachedContentTokenCount is the part of the prompt read from the
		// cache: Gemini 2.5 caches implicitly
		// (https://ai.google.dev/gemini-api/docs/caching#implicit-caching).
		CachedContentTokenCount int `json:"cachedContentTokenCount"`
	} `json:"usageMetadata"`
	ModelVersion string          `json:"modelVersion"`
	Error        json.RawMessage `json:"error"`
}

// refusals are the finish reasons by which Gemini blocks a reply.
var refusals = map[string]bool{"SAFETY": true, "PROHIBITED_CONTENT": true, "BLOCKLIST": true, "SPII": true, "RECITATION": true, "IMAGE_SAFETY": true}

func (c *Client) body(req providers.Request) ([]byte, string) {
	model := req.Model
	if model == "" {
		model = c.cfg.Model
	}
	gr := generateRequest{GenerationConfig: &generationConfig{MaxOutputTokens: req.MaxTokens, Temperature: req.Temperature}}
	if gr.GenerationConfig.MaxOutputTokens <= 0 {
		gr.GenerationConfig.MaxOutputTokens = c.cfg.MaxTokens
	}
	if c.cfg.ThinkingBudget != nil && strings.Contains(model, "flash") {
		gr.GenerationConfig.ThinkingConfig = &thinkingConfig{ThinkingBudget: *c.cfg.ThinkingBudget}
	}
	// The system messages before the first turn are the system
	// instruction. Gemini has no system turn inside a conversation, so a
	// later system message (the persona card, which follows the context
	// the seats share so that the providers' prompt caches can reuse it)
	// is sent in order as a part of the user turn it joins; Gemini's cache
	// reuses the common prefix of the whole request, system instruction first.
	var system []string
	turns := false
	for _, m := range req.Messages {
		switch {
		case m.Role == providers.RoleSystem && !turns:
			system = append(system, m.Content)
			continue
		case m.Role == providers.RoleAssistant:
			turns = true
			gr.Contents = append(gr.Contents, content{Role: "model", Parts: []part{{Text: m.Content}}})
			continue
		}
		turns = true
		parts := []part{{Text: m.Content}}
		for _, img := range m.Images {
			parts = append(parts, part{InlineData: &inlineData{MimeType: img.MIME, Data: base64.StdEncoding.EncodeToString(img.Data)}})
		}
		if n := len(gr.Contents); n > 0 && gr.Contents[n-1].Role == "user" {
			gr.Contents[n-1].Parts = append(gr.Contents[n-1].Parts, parts...)
			continue
		}
		gr.Contents = append(gr.Contents, content{Role: "user", Parts: parts})
	}
	if len(system) > 0 {
		gr.SystemInstruction = &content{Parts: []part{{Text: strings.Join(system, "\n\n")}}}
	}
	b, _ := json.Marshal(gr)
	return b, model
}

// Stream sends one streamed generateContent call: a single attempt.
func (c *Client) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	body, model := c.body(req)
	p := c.cfg.Provider
	resp := providers.Response{Provider: p, Model: model}
	wctx, wd := providers.StartWatchdog(ctx, p, providers.Timeouts{FirstByte: c.cfg.FirstByteTimeout, Idle: c.cfg.IdleTimeout, Overall: c.cfg.Timeout})
	defer wd.Stop()

	u := c.cfg.BaseURL + "/v1beta/models/" + url.PathEscape(model) + ":streamGenerateContent?alt=sse"
	hreq, err := http.NewRequestWithContext(wctx, http.MethodPost, u, nil)
	if err != nil {
		return resp, &providers.Error{Provider: p, Kind: providers.KindBadRequest, Message: "build request", Err: err}
	}
	providers.SetStreamBody(hreq, body, func() []byte { b, _ := c.body(req); return b })
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	if c.cfg.APIKey != "" {
		hreq.Header.Set("x-goog-api-key", c.cfg.APIKey)
	}
	start := time.Now()
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return resp, wd.Fail(ctx, err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		return resp, providers.StatusError(p, c.cfg.KeyVariable, hresp, c.cfg.APIKey)
	}
	resp.Usage.Calls = 1
	var text, reasoning strings.Builder
	r := providers.NewSSEReader(hresp.Body)
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, providers.ErrLineTooLong) {
				return resp, providers.MalformedError(p, nil, err)
			}
			return resp, wd.Fail(ctx, err)
		}
		wd.Alive()
		if ev.Comment || strings.TrimSpace(ev.Data) == "" {
			continue
		}
		var gr generateResponse
		if err := json.Unmarshal([]byte(ev.Data), &gr); err != nil {
			return resp, providers.MalformedError(p, []byte(ev.Data), err)
		}
		if len(gr.Error) > 0 && string(gr.Error) != "null" {
			d, _ := providers.ParseErrorDetail([]byte(`{"error":` + string(gr.Error) + `}`))
			return resp, providers.ClassifyStreamError(p, c.cfg.KeyVariable, d)
		}
		if gr.ModelVersion != "" {
			resp.Model = gr.ModelVersion
		}
		if u := gr.UsageMetadata; u != nil {
			resp.Usage.InputTokens = u.PromptTokenCount
			resp.Usage.OutputTokens = u.CandidatesTokenCount + u.ThoughtsTokenCount
			resp.Usage.CachedInputTokens = min(u.CachedContentTokenCount, u.PromptTokenCount)
		}
		if pf := gr.PromptFeedback; pf != nil && pf.BlockReason != "" {
			return resp, &providers.Error{Provider: p, Kind: providers.KindRefusal, Message: "prompt blocked: " + pf.BlockReason}
		}
		if len(gr.Candidates) == 0 {
			continue
		}
		cand := gr.Candidates[0]
		if cand.FinishReason != "" {
			resp.FinishReason = cand.FinishReason
		}
		for _, pt := range cand.Content.Parts {
			d := providers.Delta{}
			if pt.Thought {
				d.Reasoning = pt.Text
				reasoning.WriteString(pt.Text)
			} else {
				d.Text = pt.Text
				if text.Len() == 0 {
					d.Text = strings.TrimLeft(d.Text, " \t\r\n")
					if d.Text != "" {
						resp.FirstToken = time.Since(start)
					}
				}
				text.WriteString(d.Text)
			}
			if d.Text == "" && d.Reasoning == "" {
				continue
			}
			if err := fn(d); err != nil {
				return resp, err
			}
		}
		if refusals[cand.FinishReason] {
			return resp, &providers.Error{Provider: p, Kind: providers.KindRefusal, Message: "finish reason " + cand.FinishReason}
		}
	}
	if resp.FinishReason == "" {
		return resp, &providers.Error{Provider: p, Kind: providers.KindNetwork, Message: "stream ended without a finish reason"}
	}
	resp.Text, resp.Reasoning = strings.TrimSpace(text.String()), reasoning.String()
	if resp.Text == "" {
		return resp, &providers.Error{Provider: p, Kind: providers.KindEmpty, Message: "no text (finish reason " + resp.FinishReason + ")"}
	}
	return resp, nil
}
