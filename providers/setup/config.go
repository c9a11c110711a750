// Package setup builds the model clients from the environment: it is the
// factory cmd calls. It reads nothing by itself: cmd loads Config (with
// go-envconfig, from the process environment and .env) and hands it in.
//
// Every configuration mistake is a one-line *ConfigError naming the
// variable to fix, so that cmd can print it and exit with code 2.
package setup

import (
	"context"
	"fmt"
	"strings"

	"github.com/sethvargo/go-envconfig"
)

// DefaultProvider is the chat provider when AI_PROVIDER is not set.
const DefaultProvider = "openrouter"

// Config is the model part of the environment.
type Config struct {
	// Provider has no envconfig default on purpose: an empty value means
	// "not set" (see Configured); Build applies DefaultProvider.
	Provider string `env:"AI_PROVIDER"`
	Model    string `env:"AI_MODEL"`
	BaseURL  string `env:"AI_BASE_URL"`
	APIKey   string `env:"AI_API_KEY"` // wins over the provider's own key variable

	OpenRouterKey string `env:"OPENROUTER_API_KEY"`
	OpenAIKey     string `env:"OPENAI_API_KEY"`
	DeepSeekKey   string `env:"DEEPSEEK_API_KEY"`
	GeminiKey     string `env:"GEMINI_API_KEY"`
	DoubaoKey     string `env:"DOUBAO_API_KEY"`

	VisionProvider string `env:"VISION_PROVIDER"`
	VisionModel    string `env:"VISION_MODEL"`
	VisionBaseURL  string `env:"VISION_BASE_URL"`

	ImageProvider string `env:"IMAGE_PROVIDER"` // doubao, openai, none; empty: doubao when DOUBAO_API_KEY is set
	ImageModel    string `env:"IMAGE_MODEL"`
	ImageBaseURL  string `env:"IMAGE_BASE_URL"`

	// AgentModels maps a seat to a model on the chat provider. Model IDs
	// contain ":" and "/", so the separator is "=": "craftsman=openai/gpt-4o:beta,designer=x".
	AgentModels map[string]string `env:"AGENT_MODELS, separator=="`
	Fallback    []string          `env:"AI_FALLBACK"` // providers tried in order while the primary's circuit is open

	// LLMConcurrency caps the model calls in flight per provider, across
	// all sessions; waiting calls are served round-robin by session.
	// 0 (a Config built in code) means the default, 16.
	LLMConcurrency int `env:"LLM_CONCURRENCY, default=16"`

	// ModelPrices adds or overrides model prices, in dollars per million
	// tokens: "gpt-4o-mini=0.15/0.075/0.6" is input/cached input/output.
	// The defaults, with their sources, are providers.DefaultPrices().
	ModelPrices map[string]string `env:"MODEL_PRICES, separator=="`
}

// DefaultLLMConcurrency is LLM_CONCURRENCY when it is not set.
const DefaultLLMConcurrency = 16

// ConfigError is a configuration mistake: one line naming the variable.
type ConfigError struct {
	Variable string
	Msg      string
}

func (e *ConfigError) Error() string { return e.Msg }

func configErr(variable, format string, args ...any) *ConfigError {
	return &ConfigError{Variable: variable, Msg: fmt.Sprintf(format, args...)}
}

// Load reads Config through l (envconfig.OsLookuper() in production, a
// MapLookuper in tests).
func Load(ctx context.Context, l envconfig.Lookuper) (Config, error) {
	var cfg Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: l}); err != nil {
		if strings.Contains(err.Error(), "AgentModels") {
			return cfg, configErr("AGENT_MODELS", "AGENT_MODELS must be seat=model pairs separated by commas")
		}
		return cfg, fmt.Errorf("load model configuration: %w", err)
	}
	return cfg, nil
}

// Configured reports whether anything about a model is configured:
// AI_PROVIDER, AI_BASE_URL or any key. The console falls back to the demo
// model only when it is false.
func Configured(cfg Config) bool {
	for _, v := range []string{cfg.Provider, cfg.BaseURL, cfg.APIKey, cfg.OpenRouterKey, cfg.OpenAIKey,
		cfg.DeepSeekKey, cfg.GeminiKey, cfg.DoubaoKey} {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// ProviderName is the chat provider in effect: AI_PROVIDER, else "openai"
// (any OpenAI-compatible server) when only AI_BASE_URL is set, else
// DefaultProvider.
func (c Config) ProviderName() string {
	switch p := strings.ToLower(strings.TrimSpace(c.Provider)); {
	case p != "":
		return p
	case c.BaseURL != "":
		return "openai"
	}
	return DefaultProvider
}

// keyOf returns a provider's own key and its variable.
func (c Config) keyOf(provider string) (key, variable string) {
	switch provider {
	case "openrouter":
		return c.OpenRouterKey, "OPENROUTER_API_KEY"
	case "openai":
		return c.OpenAIKey, "OPENAI_API_KEY"
	case "deepseek":
		return c.DeepSeekKey, "DEEPSEEK_API_KEY"
	case "gemini":
		return c.GeminiKey, "GEMINI_API_KEY"
	case "doubao":
		return c.DoubaoKey, "DOUBAO_API_KEY"
	}
	return "", ""
}
