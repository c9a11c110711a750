package openai

// Preset is the defaults of one OpenAI-compatible service.
type Preset struct {
	Name        string
	BaseURL     string
	KeyVariable string // empty: no key needed
	Model       string // default chat model
	VisionModel string // default model that can see images; empty: none
	ImageModel  string // default image model on the Images API; empty: none
	Headers     map[string]string
	// TokenParam is Config.TokenParam: empty (by the model's name) for
	// compatible servers, most of which need max_tokens.
	TokenParam string
}

// Attribution headers OpenRouter shows on its app rankings.
const (
	AppURL   = "https://github.com/tableround/tableround"
	AppTitle = "TableRound"
)

// OpenRouter is the default preset. Its default is a cheap paid model:
// ":free" models allow about 50 requests a day, less than one session.
func OpenRouter() Preset {
	return Preset{
		Name: "openrouter", BaseURL: "https://openrouter.ai/api/v1", KeyVariable: "OPENROUTER_API_KEY",
		Model: "deepseek/deepseek-chat-v3.1", VisionModel: "google/gemini-2.5-flash",
		Headers: map[string]string{"HTTP-Referer": AppURL, "X-OpenRouter-Title": AppTitle},
	}
}

// OpenAI is the preset of OpenAI's own API.
func OpenAI() Preset {
	return Preset{
		Name: "openai", BaseURL: "https://api.openai.com/v1", KeyVariable: "OPENAI_API_KEY",
		Model: "gpt-4o-mini", VisionModel: "gpt-4o-mini", ImageModel: "gpt-image-1",
		TokenParam: MaxCompletionTokens, // every current OpenAI chat model accepts it
	}
}

// DeepSeek is the preset of DeepSeek's API, which cannot see images.
func DeepSeek() Preset {
	return Preset{
		Name: "deepseek", BaseURL: "https://api.deepseek.com/v1", KeyVariable: "DEEPSEEK_API_KEY",
		Model: "deepseek-chat",
	}
}

// Ollama is the preset of a local Ollama server.
func Ollama() Preset {
	return Preset{
		Name: "ollama", BaseURL: "http://127.0.0.1:11434/v1",
		Model: "qwen2.5:7b", VisionModel: "qwen2.5vl:7b",
	}
}

// Doubao is the preset of Volcengine Ark's Doubao models.
func Doubao() Preset {
	return Preset{
		Name: "doubao", BaseURL: "https://ark.cn-beijing.volces.com/api/v3", KeyVariable: "DOUBAO_API_KEY",
		Model: "doubao-seed-1-6-flash-250615", VisionModel: "doubao-seed-1-6-flash-250615",
	}
}

// Presets lists every preset, in the order README shows them. Each call
// returns new values, so a caller may change them.
func Presets() []Preset { return []Preset{OpenRouter(), OpenAI(), DeepSeek(), Ollama(), Doubao()} }

// LookupPreset returns the preset of a provider name.
func LookupPreset(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// Config returns a client configuration with the preset's defaults and the
// given key.
func (p Preset) Config(apiKey string) Config {
	cfg := DefaultConfig()
	cfg.Provider, cfg.BaseURL, cfg.KeyVariable, cfg.Model, cfg.ImageModel = p.Name, p.BaseURL, p.KeyVariable, p.Model, p.ImageModel
	cfg.APIKey, cfg.TokenParam = apiKey, p.TokenParam
	if len(p.Headers) > 0 {
		cfg.Headers = make(map[string]string, len(p.Headers))
		for k, v := range p.Headers {
			cfg.Headers[k] = v
		}
	}
	return cfg
}
