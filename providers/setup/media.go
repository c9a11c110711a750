package setup

import (
	"slices"
	"strings"

	"github.com/tableround/tableround/providers/doubao"
	"github.com/tableround/tableround/providers/gemini"
	"github.com/tableround/tableround/providers/openai"
)

// visionModels are the default models that can see images, per provider.
// DeepSeek's API has none.
func defaultVisionModel(provider string) string {
	if provider == "gemini" {
		return gemini.DefaultModel
	}
	p, _ := openai.LookupPreset(provider)
	return p.VisionModel
}

// vision builds the stage-one image model. Provider, base URL and key
// default to the chat's; the model defaults to VISION_MODEL, else the
// provider's known vision model, else the chat model (with a warning).
func (b *builder) vision(m *Models) error {
	cfg := b.cfg
	name := strings.ToLower(strings.TrimSpace(cfg.VisionProvider))
	base := cfg.VisionBaseURL
	if name == "" {
		name = m.Provider
		if base == "" {
			base = cfg.BaseURL
		}
	}
	if name == "demo" || !slices.Contains(ChatProviders(), name) {
		return configErr("VISION_PROVIDER", "VISION_PROVIDER %q is not one of %s", cfg.VisionProvider, strings.Join(ChatProviders()[:6], ", "))
	}
	model := cfg.VisionModel
	if model == "" {
		model = defaultVisionModel(name)
	}
	if model == "" && name == m.Provider {
		model = m.Model
		m.VisionWarning = name + " has no model known to see images (" + model + "); set VISION_PROVIDER and VISION_MODEL for photo stories"
	}
	if model == "" {
		return configErr("VISION_MODEL", "VISION_MODEL is not set and %s has no default vision model (VISION_PROVIDER=%s)", name, name)
	}
	if strings.Contains(strings.ToLower(model), "deepseek") && m.VisionWarning == "" {
		m.VisionWarning = "vision model " + model + " probably cannot see images; set VISION_MODEL"
	}
	c, model, err := b.chat(name, model, base, "VISION_PROVIDER", "VISION_BASE_URL")
	if err != nil {
		return err
	}
	m.Vision, m.VisionProvider, m.VisionModel = c, name, model
	return nil
}

// images builds the image generator: IMAGE_PROVIDER doubao (Seedream),
// openai (Images API) or none; unset means doubao when DOUBAO_API_KEY is
// set, else none.
func (b *builder) images(m *Models) error {
	cfg := b.cfg
	name := strings.ToLower(strings.TrimSpace(cfg.ImageProvider))
	if name == "" {
		name = "none"
		if cfg.DoubaoKey != "" {
			name = "doubao"
		}
	}
	m.ImageProvider = name
	if cfg.ImageBaseURL != "" {
		if err := openai.CheckBaseURL(cfg.ImageBaseURL); err != nil {
			return configErr("IMAGE_BASE_URL", "IMAGE_BASE_URL %q is not a valid http(s) URL", cfg.ImageBaseURL)
		}
	}
	key, variable := b.keyFor(name)
	switch name {
	case "none":
		return nil
	case "doubao":
		dc := doubao.DefaultConfig()
		dc.APIKey, dc.KeyVariable, dc.HTTPClient = key, variable, b.opts.HTTPClient
		if cfg.ImageBaseURL != "" {
			dc.BaseURL = cfg.ImageBaseURL
		}
		if cfg.ImageModel != "" {
			dc.Model = cfg.ImageModel
		}
		if key == "" && !noKeyNeeded(name, dc.BaseURL) {
			return missingKey(variable, "IMAGE_PROVIDER", name)
		}
		c, err := doubao.New(dc)
		if err != nil {
			return configErr("IMAGE_PROVIDER", "build image client: %v", err)
		}
		m.Images, m.ImageModel = b.limiter(name).WrapImages(c), dc.Model
	case "openai":
		oc := openai.OpenAI().Config(key)
		oc.KeyVariable, oc.HTTPClient = variable, b.opts.HTTPClient
		if cfg.ImageBaseURL != "" {
			oc.BaseURL = cfg.ImageBaseURL
		}
		if cfg.ImageModel != "" {
			oc.ImageModel = cfg.ImageModel
		}
		if key == "" && !noKeyNeeded(name, oc.BaseURL) {
			return missingKey(variable, "IMAGE_PROVIDER", name)
		}
		c, err := openai.New(oc)
		if err != nil {
			return configErr("IMAGE_PROVIDER", "build image client: %v", err)
		}
		m.Images, m.ImageModel = b.limiter(name).WrapImages(c), oc.ImageModel
	default:
		return configErr("IMAGE_PROVIDER", "IMAGE_PROVIDER %q is not doubao, openai or none", cfg.ImageProvider)
	}
	return nil
}
