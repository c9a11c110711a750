package setup

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/gemini"
	"github.com/tableround/tableround/providers/openai"
)

// ChatProviders returns the accepted values of AI_PROVIDER (and of
// VISION_PROVIDER and AI_FALLBACK, without demo, which is last).
func ChatProviders() []string {
	return []string{"openrouter", "openai", "deepseek", "gemini", "doubao", "ollama", "demo"}
}

// Options are what the caller supplies besides the environment.
type Options struct {
	// Demo is the built-in demo model, used for AI_PROVIDER=demo.
	Demo providers.ChatModel
	// Seats, when set, are the valid seat IDs of AGENT_MODELS.
	Seats []string
	// HTTPClient is shared by all clients (nil: one client over
	// providers.NewTransport, shared by all the clients Build makes).
	HTTPClient *http.Client
	// Policy is the retry policy (zero fields take defaults).
	Policy providers.Policy
	// BreakerThreshold and BreakerCoolDown tune the circuit breakers
	// (defaults 5 and 30s); Clock is their clock (nil: wall clock).
	BreakerThreshold int
	BreakerCoolDown  time.Duration
	Clock            clock.Clock
	// OnBreakerOpen, when set, is told each time a provider's circuit
	// breaker opens.
	OnBreakerOpen func(provider string)
	// Timeouts override the clients' stream timeouts when set (tests).
	FirstByteTimeout, IdleTimeout time.Duration
}

// Models are the built model clients and their names for display.
type Models struct {
	Chat     providers.ChatModel // with retries, circuit breaker and fallbacks
	Provider string              // e.g. "openrouter"
	Model    string              // e.g. "deepseek/deepseek-chat-v3.1"
	Demo     bool                // the demo model: label it everywhere
	// Fallbacks are the AI_FALLBACK providers, in order.
	Fallbacks []string
	// SeatModels are the AGENT_MODELS overrides (seat → model).
	SeatModels map[string]string

	Vision         providers.ChatModel // nil when no configured model can see images
	VisionProvider string
	VisionModel    string
	// VisionWarning is a start-up note when the vision model cannot (or may
	// not) see images; empty when all is well.
	VisionWarning string

	Images        providers.ImageGenerator // nil: IMAGE_PROVIDER=none
	ImageProvider string                   // "none" when nil
	ImageModel    string

	breakers map[string]*providers.Breaker
}

// Circuits reports each chat provider's circuit state ("closed", "open",
// "half-open"), for /readyz and the metrics.
func (m *Models) Circuits() map[string]string {
	out := map[string]string{}
	for name, b := range m.breakers {
		out[name] = b.State().String()
	}
	return out
}

// Providers are the providers the chat and vision models call, fallbacks
// included, each once.
func (m *Models) Providers() []string {
	var out []string
	for _, p := range append(append([]string{m.Provider}, m.Fallbacks...), m.VisionProvider) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Name is the chat model's display name, "provider/model".
func (m *Models) Name() string {
	if m.Model == "" {
		return m.Provider
	}
	return m.Provider + "/" + m.Model
}

// Seat returns a seat's model and display name (AGENT_MODELS), or nil and
// "" when the seat has no override. Its signature fits roundtable.Deps.SeatModel.
func (m *Models) Seat(seat string) (providers.ChatModel, string) {
	model, ok := m.SeatModels[seat]
	if !ok {
		return nil, ""
	}
	return providers.WithModel(m.Chat, model), m.Provider + "/" + model
}

// builder keeps one circuit breaker and one concurrency limiter per
// provider across chat, vision and images.
type builder struct {
	cfg      Config
	opts     Options
	breakers map[string]*providers.Breaker
	limiters map[string]*providers.Limiter
	prices   providers.Prices
}

// limiter returns the provider's limiter (LLM_CONCURRENCY calls in flight).
func (b *builder) limiter(provider string) *providers.Limiter {
	l, ok := b.limiters[provider]
	if !ok {
		n := b.cfg.LLMConcurrency
		if n == 0 {
			n = DefaultLLMConcurrency
		}
		l = providers.NewLimiter(n)
		b.limiters[provider] = l
	}
	return l
}

// Build validates cfg and builds every model client. The errors are
// *ConfigError values naming the variable to fix.
func Build(cfg Config, opts Options) (*Models, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: providers.NewTransport()}
	}
	b := &builder{cfg: cfg, opts: opts, breakers: map[string]*providers.Breaker{}, limiters: map[string]*providers.Limiter{}}
	if cfg.LLMConcurrency < 0 {
		return nil, configErr("LLM_CONCURRENCY", "LLM_CONCURRENCY must be at least 1 (0 or unset means %d), got %d", DefaultLLMConcurrency, cfg.LLMConcurrency)
	}
	prices, err := providers.ParsePrices(cfg.ModelPrices, providers.DefaultPrices())
	if err != nil {
		return nil, configErr("MODEL_PRICES", "MODEL_PRICES: %v", err)
	}
	b.prices = prices
	name := cfg.ProviderName()
	if !slices.Contains(ChatProviders(), name) {
		return nil, configErr("AI_PROVIDER", "AI_PROVIDER %q is not one of %s", cfg.Provider, strings.Join(ChatProviders(), ", "))
	}
	m := &Models{Provider: name, breakers: b.breakers}
	if name == "demo" {
		if opts.Demo == nil {
			return nil, configErr("AI_PROVIDER", "AI_PROVIDER=demo: no demo model is built in")
		}
		demo := b.limiter("demo").Wrap(opts.Demo)
		m.Chat, m.Model, m.Demo, m.Vision, m.VisionProvider = demo, "demo", true, demo, "demo"
		m.ImageProvider = "none"
		return m, nil
	}
	primary, model, err := b.chat(name, cfg.Model, cfg.BaseURL, "AI_PROVIDER", "AI_BASE_URL")
	if err != nil {
		return nil, err
	}
	m.Model = model
	chain := []providers.ChatModel{primary}
	for _, fb := range cfg.Fallback {
		fb = strings.ToLower(strings.TrimSpace(fb))
		if fb == "" || fb == name {
			continue
		}
		if fb == "demo" || !slices.Contains(ChatProviders(), fb) {
			return nil, configErr("AI_FALLBACK", "AI_FALLBACK provider %q is not one of %s", fb, strings.Join(ChatProviders()[:6], ", "))
		}
		c, _, err := b.chat(fb, "", "", "AI_FALLBACK", "")
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
		m.Fallbacks = append(m.Fallbacks, fb)
	}
	m.Chat = primary
	if len(chain) > 1 {
		m.Chat = providers.NewFallback(chain...)
	}
	if err := b.seats(m); err != nil {
		return nil, err
	}
	if err := b.vision(m); err != nil {
		return nil, err
	}
	if err := b.images(m); err != nil {
		return nil, err
	}
	return m, nil
}

func (b *builder) seats(m *Models) error {
	for seat, model := range b.cfg.AgentModels {
		if seat == "" || model == "" {
			return configErr("AGENT_MODELS", "AGENT_MODELS entry %q=%q needs a seat and a model", seat, model)
		}
		if b.opts.Seats != nil && !slices.Contains(b.opts.Seats, seat) {
			return configErr("AGENT_MODELS", "AGENT_MODELS seat %q is not one of %s", seat, strings.Join(b.opts.Seats, ", "))
		}
	}
	m.SeatModels = b.cfg.AgentModels
	return nil
}

// keyFor returns the key of a provider: AI_API_KEY for the chat provider
// when set, else the provider's own variable.
func (b *builder) keyFor(provider string) (key, variable string) {
	key, variable = b.cfg.keyOf(provider)
	if b.cfg.APIKey != "" && provider == b.cfg.ProviderName() {
		return b.cfg.APIKey, "AI_API_KEY"
	}
	if key == "" && b.cfg.BaseURL != "" && provider == b.cfg.ProviderName() {
		variable = "AI_API_KEY"
	}
	return key, variable
}

// chat builds one provider's client wrapped in its limiter, breaker and
// retries (in that order from the inside, so every attempt, a retry too,
// waits for a slot, and no slot is held through a backoff). providerVar and
// urlVar name the variables in errors.
func (b *builder) chat(name, model, baseURL, providerVar, urlVar string) (providers.ChatModel, string, error) {
	c, model, err := b.client(name, model, baseURL, providerVar, urlVar)
	if err != nil {
		return nil, "", err
	}
	br, ok := b.breakers[name]
	if !ok {
		br = providers.NewBreaker(name, b.opts.BreakerThreshold, b.opts.BreakerCoolDown, b.opts.Clock)
		br.OnOpen(b.opts.OnBreakerOpen)
		b.breakers[name] = br
	}
	// Each attempt is priced on its own (a provider that reports no cost),
	// by the model that answered it.
	return providers.NewRetry(br.Wrap(b.limiter(name).Wrap(providers.Priced(c, b.prices))), b.opts.Policy), model, nil
}

// client builds the bare client of a provider.
func (b *builder) client(name, model, baseURL, providerVar, urlVar string) (providers.ChatModel, string, error) {
	if baseURL != "" {
		if err := openai.CheckBaseURL(baseURL); err != nil {
			return nil, "", configErr(urlVar, "%s %q is not a valid http(s) URL", urlVar, baseURL)
		}
	}
	key, variable := b.keyFor(name)
	if name == "gemini" {
		cfg := gemini.DefaultConfig()
		cfg.APIKey, cfg.HTTPClient = key, b.opts.HTTPClient
		if variable != "" {
			cfg.KeyVariable = variable
		}
		if baseURL != "" {
			cfg.BaseURL = baseURL
		}
		if model != "" {
			cfg.Model = model
		}
		cfg.FirstByteTimeout, cfg.IdleTimeout = b.opts.FirstByteTimeout, b.opts.IdleTimeout
		if key == "" && !noKeyNeeded(name, cfg.BaseURL) {
			return nil, "", missingKey(variable, providerVar, name)
		}
		c, err := gemini.New(cfg)
		if err != nil {
			return nil, "", configErr(urlVar, "build gemini client: %v", err)
		}
		return c, cfg.Model, nil
	}
	preset, _ := openai.LookupPreset(name)
	cfg := preset.Config(key)
	cfg.HTTPClient = b.opts.HTTPClient
	cfg.FirstByteTimeout, cfg.IdleTimeout = b.opts.FirstByteTimeout, b.opts.IdleTimeout
	if variable != "" {
		cfg.KeyVariable = variable
	}
	if baseURL != "" {
		cfg.BaseURL = baseURL
	}
	if model != "" {
		cfg.Model = model
	}
	if key == "" && !noKeyNeeded(name, cfg.BaseURL) {
		return nil, "", missingKey(variable, providerVar, name)
	}
	c, err := openai.New(cfg)
	if err != nil {
		return nil, "", configErr(urlVar, "build %s client: %v", name, err)
	}
	return c, cfg.Model, nil
}

func missingKey(variable, providerVar, provider string) *ConfigError {
	return configErr(variable, "%s is not set (%s=%s)", variable, providerVar, provider)
}

// noKeyNeeded reports whether a server takes no key: Ollama, and anything
// on a loopback address.
func noKeyNeeded(provider, base string) bool {
	if provider == "ollama" {
		return true
	}
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.Contains(host, "ollama") || u.Port() == "11434" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
