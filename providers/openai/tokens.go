package openai

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Token parameters: how a chat completion's output cap is sent.
const (
	// MaxCompletionTokens is OpenAI's current parameter; reasoning models
	// accept no other (and only the default temperature).
	MaxCompletionTokens = "max_completion_tokens"
	// MaxTokens is the deprecated parameter that many OpenAI-compatible
	// servers still need.
	MaxTokens = "max_tokens"
)

// wireForm is how one model is asked: the token parameter, and whether a
// temperature may be sent.
type wireForm struct {
	param  string
	noTemp bool
}

// formFor is the form to try first for model: what an earlier refusal
// taught (remembered per model), else Config.TokenParam, else by the model
// name (OpenAI's o-series and gpt-5 take max_completion_tokens and no
// temperature; anything else max_tokens).
func (c *Client) formFor(model string) wireForm {
	if f, ok := c.forms.Load(model); ok {
		return f.(wireForm)
	}
	byName := usesCompletionTokens(model)
	switch {
	case byName:
		return wireForm{param: MaxCompletionTokens, noTemp: true}
	case c.cfg.TokenParam != "":
		return wireForm{param: c.cfg.TokenParam}
	}
	return wireForm{param: MaxTokens}
}

// adapt returns the form to retry with after a 400 whose body refuses a
// parameter, and whether there is one: the other token parameter, or no
// temperature.
func adapt(f wireForm, body []byte, sentTemp bool) (wireForm, bool) {
	switch refusedParam(body) {
	case MaxTokens:
		if f.param == MaxTokens {
			return wireForm{param: MaxCompletionTokens, noTemp: f.noTemp}, true
		}
	case MaxCompletionTokens:
		if f.param == MaxCompletionTokens {
			return wireForm{param: MaxTokens, noTemp: f.noTemp}, true
		}
	case "temperature":
		if sentTemp && !f.noTemp {
			return wireForm{param: f.param, noTemp: true}, true
		}
	}
	return f, false
}

// refusedParam names the parameter a 400 body refuses: "max_tokens",
// "max_completion_tokens" or "temperature", or "" when it is about
// something else. OpenAI names it in error.param; other servers only in
// the message ("Unrecognized request argument supplied: max_tokens"), where
// the refused one comes first (OpenAI's own message then suggests the
// other).
func refusedParam(body []byte) string {
	var e struct {
		Error struct {
			Param   string `json:"param"`
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := string(body)
	if json.Unmarshal(bytes.TrimSpace(body), &e) == nil {
		switch e.Error.Param {
		case MaxTokens, MaxCompletionTokens, "temperature":
			return e.Error.Param
		}
		if e.Error.Message != "" {
			msg = e.Error.Message
		}
	}
	low := strings.ToLower(msg)
	if !containsAny(low, "unsupported", "not supported", "unrecognized", "unknown", "not allowed", "invalid", "does not support", "extra inputs") {
		return ""
	}
	first, at := "", len(low)+1
	for _, p := range []string{MaxCompletionTokens, MaxTokens, "temperature"} {
		i := strings.Index(low, p)
		if p == MaxTokens { // not the tail of max_completion_tokens
			i = indexWord(low, p)
		}
		if i >= 0 && i < at {
			first, at = p, i
		}
	}
	return first
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// indexWord finds p in s not preceded by a letter or underscore.
func indexWord(s, p string) int {
	for off := 0; ; {
		i := strings.Index(s[off:], p)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || !(s[i-1] == '_' || s[i-1] >= 'a' && s[i-1] <= 'z') {
			return i
		}
		off = i + 1
	}
}
