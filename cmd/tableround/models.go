package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/tableround/tableround/imagepipe"
	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/providers/setup"
	"github.com/tableround/tableround/roundtable"
)

// DemoConfig tunes the built-in demo model.
type DemoConfig struct {
	// Pace is "realistic" (300 ms to the first token, 40 tokens/s) or
	// "instant" (tests, quick looks).
	Pace string `env:"DEMO_PACE, default=realistic"`
}

// models are the built model clients plus a start-up hint for people.
type models struct {
	*setup.Models
	hint    string
	metrics *ops.Metrics // serve's; nil elsewhere
}

// buildModels builds the chat, vision and image clients. With allowDemo
// (the console) and nothing about a model configured, it falls back to the
// demo model with a hint; anything configured but incomplete is an error
// naming the variable.
func buildModels(ctx context.Context, l envconfig.Lookuper, logger *slog.Logger, allowDemo bool, metrics *ops.Metrics) (*models, error) {
	cfg, err := setup.Load(ctx, l)
	if err != nil {
		return nil, err
	}
	var dc DemoConfig
	if err := loadConfig(ctx, l, &dc); err != nil {
		return nil, err
	}
	opts := demo.Realistic()
	if dc.Pace == "instant" {
		opts = demo.Options{}
	}
	out := &models{metrics: metrics}
	if allowDemo && !setup.Configured(cfg) {
		cfg.Provider = "demo"
		out.hint = "No model is configured, so this session runs on the built-in demo model (scripted text, not an AI).\n" +
			"For real discussions set AI_PROVIDER, AI_MODEL and a key (or AI_BASE_URL for Ollama) in .env — see README.md."
	}
	so := setup.Options{Demo: demo.New(opts)}
	if metrics != nil {
		so.OnBreakerOpen = metrics.ObserveCircuitOpened
	}
	m, err := setup.Build(cfg, so)
	if err != nil {
		return nil, err
	}
	out.Models = m
	if m.VisionWarning != "" {
		logger.Warn("vision", "note", m.VisionWarning)
		if out.hint != "" {
			out.hint += "\n"
		}
		out.hint += m.VisionWarning
	}
	return out, nil
}

// deps assembles what a session runs on.
func (m *models) deps(st roundtable.Store, logger *slog.Logger) roundtable.Deps {
	d := roundtable.Deps{
		Chat: m.Chat, SeatModel: m.Seat, Vision: m.Vision, Images: m.Images, Store: st,
		ModelName: m.Name(), Demo: m.Demo, Logger: logger, Now: time.Now,
		Prepare: preparePhoto, Inspect: inspectPhoto,
	}
	if m.metrics != nil {
		d.Prepare = observedPrepare(m.metrics)
	}
	if m.Demo {
		d.ModelName = demo.Name
	}
	return d
}

// photos is the process's one image pipeline: its decoders are loaded
// once, on the first photo that needs each.
var photos = imagepipe.New()

// photoGate lets the process prepare GOMAXPROCS photos at once: a burst of
// photos queues instead of decoding together (memory and the streams'
// cores).
var photoGate = imagepipe.NewGate(photos, 0)

// inspectPhoto checks a photo's header with the pipeline's defaults.
func inspectPhoto(data []byte) error {
	_, err := imagepipe.Inspect(data, imagepipe.DefaultOptions())
	return err
}

// preparePhoto runs the image pipeline with its defaults.
func preparePhoto(ctx context.Context, data []byte) (roundtable.PreparedImage, error) {
	r, err := photoGate.Prepare(ctx, data, imagepipe.DefaultOptions())
	if err != nil {
		return roundtable.PreparedImage{}, err
	}
	return roundtable.PreparedImage{MIME: r.MIME, Data: r.Data, Width: r.Width, Height: r.Height}, nil
}
