package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/providers/setup"
)

// Doctor's per-check time limits: short, so a dead dependency is reported
// quickly, but long enough for a model's first token.
const (
	doctorModelTimeout = 30 * time.Second
	doctorNetTimeout   = 8 * time.Second
)

// check is one line of the doctor's report.
type check struct {
	name   string
	status checkStatus
	detail string // what was found, or what is wrong
	fix    string // how to fix it (failures and warnings)
}

type checkStatus int

const (
	checkOK checkStatus = iota
	checkWarn
	checkFail
)

func (r check) String() string {
	mark := map[checkStatus]string{checkOK: "✓", checkWarn: "⚠", checkFail: "✗"}[r.status]
	s := mark + " " + r.name + " — " + r.detail
	if r.fix != "" && r.status != checkOK {
		s += " — " + r.fix
	}
	return s
}

// doctor collects the report; secrets are redacted from every line.
type doctor struct {
	out     io.Writer
	secrets []string
	failed  bool
}

func (d *doctor) add(r check) {
	if r.status == checkFail {
		d.failed = true
	}
	fmt.Fprintln(d.out, providers.Redact(r.String(), d.secrets...))
}

// runDoctor handles `tableround doctor [--images]`: it checks the
// configuration, then every configured dependency for real, one line per
// check. With --url it checks a running serve instead (doctor_live.go). Exit codes: 0 all needed parts work, 1 something needed is
// broken, 2 usage.
func runDoctor(ctx context.Context, env environ, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	images := fs.Bool("images", false, "also generate one image (this costs money)")
	live := fs.String("url", "", "check a running serve instead: its readiness and recent warnings (e.g. http://127.0.0.1:8080)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tableround doctor [--images] | tableround doctor --url http://HOST:PORT")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	d := &doctor{out: stdout}
	if *live != "" {
		d.checkLive(ctx, *live)
		if d.failed {
			return exitFailure
		}
		return exitOK
	}
	l, err := env()
	if err != nil {
		d.add(check{name: "configuration", status: checkFail, detail: err.Error(), fix: "fix the line in .env"})
		return exitFailure
	}
	d.secrets = doctorSecrets(l)
	d.checkConfig(ctx, l)
	d.checkModels(ctx, l, *images)
	d.checkImages()
	d.checkStore(ctx, l)
	d.checkDiscord(ctx, l)
	d.checkTelegram(ctx, l)
	if d.failed {
		return exitFailure
	}
	return exitOK
}

// doctorSecrets are every key and token of the environment, so that no
// line can print one.
func doctorSecrets(l envconfig.Lookuper) []string {
	var sec []string
	for _, v := range []string{"AI_API_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_API_KEY", "GEMINI_API_KEY",
		"DOUBAO_API_KEY", "DISCORD_TOKEN", "TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_PERSONA_TOKENS"} {
		if s, ok := l.Lookup(v); ok {
			sec = append(sec, s)
			for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '=' }) {
				sec = append(sec, part)
			}
		}
	}
	return sec
}

// checkConfig loads every configuration struct the other commands load.
func (d *doctor) checkConfig(ctx context.Context, l envconfig.Lookuper) {
	if _, err := loadBase(ctx, l); err != nil {
		d.add(check{name: "configuration", status: checkFail, detail: err.Error(), fix: "fix that variable in the environment or .env"})
		return
	}
	var sc ServeConfig
	for _, cfg := range []any{&sc, &DemoConfig{}} {
		if err := loadConfig(ctx, l, cfg); err != nil {
			d.add(check{name: "configuration", status: checkFail, detail: err.Error(), fix: "fix that variable in the environment or .env"})
			return
		}
	}
	if _, err := parseOperators(sc.OperatorIDs); err != nil { // as serve reads it
		d.add(check{name: "configuration", status: checkFail, detail: err.Error(), fix: "fix that variable in the environment or .env"})
		return
	}
	where := "the environment"
	if _, err := os.Stat(".env"); err == nil {
		where = "the environment and ./.env"
	}
	d.add(check{name: "configuration", status: checkOK, detail: "read from " + where})
}

// checkModels builds the model clients as serve does and makes one tiny
// call to each configured provider.
func (d *doctor) checkModels(ctx context.Context, l envconfig.Lookuper, images bool) {
	cfg, err := setup.Load(ctx, l)
	if err != nil {
		d.add(check{name: "model configuration", status: checkFail, detail: err.Error(), fix: "fix that variable"})
		return
	}
	if !setup.Configured(cfg) {
		d.add(check{name: "chat model", status: checkWarn, detail: "nothing configured: console runs on the built-in demo model, serve will not start",
			fix: "set AI_PROVIDER, AI_MODEL and a key (or AI_BASE_URL for Ollama), or AI_PROVIDER=demo"})
		return
	}
	opts := setup.Options{Demo: demo.New(demo.Options{}), Policy: providers.Policy{MaxAttempts: 1},
		FirstByteTimeout: doctorModelTimeout, IdleTimeout: doctorModelTimeout}
	m, err := setup.Build(cfg, opts)
	if err != nil {
		d.add(check{name: "model configuration", status: checkFail, detail: err.Error(), fix: "fix that variable"})
		return
	}
	if m.Demo {
		d.chatCall(ctx, "chat model", "built-in demo model (scripted text, not an AI)", "AI_MODEL", m.Chat)
		return
	}
	d.chatCall(ctx, "chat model", m.Name(), "AI_MODEL", m.Chat)
	for _, fb := range m.Fallbacks {
		fc := setup.Config{Provider: fb, APIKey: "", LLMConcurrency: 1, ImageProvider: "none",
			OpenRouterKey: cfg.OpenRouterKey, OpenAIKey: cfg.OpenAIKey, DeepSeekKey: cfg.DeepSeekKey, GeminiKey: cfg.GeminiKey, DoubaoKey: cfg.DoubaoKey}
		fm, err := setup.Build(fc, opts)
		if err != nil {
			d.add(check{name: "fallback model " + fb, status: checkFail, detail: err.Error(), fix: "fix that variable or remove " + fb + " from AI_FALLBACK"})
			continue
		}
		d.chatCall(ctx, "fallback model", fm.Name(), "AI_FALLBACK", fm.Chat)
	}
	if m.VisionWarning != "" {
		d.add(check{name: "vision model", status: checkWarn, detail: m.VisionWarning, fix: "photo stories may not see the photo"})
	}
	if m.Vision != nil {
		d.visionCall(ctx, m.VisionProvider+"/"+m.VisionModel, m.Vision)
	}
	switch {
	case m.Images == nil:
		d.add(check{name: "image model", status: checkOK, detail: "off (IMAGE_PROVIDER=none): sessions end with the image prompt instead of a picture"})
	case !images:
		d.add(check{name: "image model", status: checkOK, detail: m.ImageProvider + "/" + m.ImageModel +
			" configured, not called: generating an image costs money (run `tableround doctor --images` to try it)"})
	default:
		d.imageCall(ctx, m.ImageProvider+"/"+m.ImageModel, m.Images)
	}
}

var doctorPrompt = []providers.Message{{Role: providers.RoleUser, Content: "Reply with the single word: ok"}}

func (d *doctor) chatCall(ctx context.Context, name, model, modelVar string, c providers.ChatModel) {
	ctx, cancel := context.WithTimeout(ctx, doctorModelTimeout)
	defer cancel()
	start := time.Now()
	_, err := c.Stream(ctx, providers.Request{Messages: doctorPrompt, MaxTokens: 64, Tag: "doctor/chat"},
		func(providers.Delta) error { return nil })
	d.modelResult(name, model, modelVar, time.Since(start), err)
}

func (d *doctor) visionCall(ctx context.Context, model string, c providers.ChatModel) {
	ctx, cancel := context.WithTimeout(ctx, doctorModelTimeout)
	defer cancel()
	msg := []providers.Message{{Role: providers.RoleUser, Content: "Name the colour of this picture in one word.",
		Images: []providers.Image{{MIME: "image/png", Data: tinyPNG()}}}}
	start := time.Now()
	_, err := c.Stream(ctx, providers.Request{Messages: msg, MaxTokens: 64, Tag: "doctor/vision"},
		func(providers.Delta) error { return nil })
	d.modelResult("vision model", model, "VISION_MODEL", time.Since(start), err)
}

func (d *doctor) imageCall(ctx context.Context, model string, g providers.ImageGenerator) {
	ctx, cancel := context.WithTimeout(ctx, 2*doctorModelTimeout)
	defer cancel()
	start := time.Now()
	imgs, _, err := g.Generate(ctx, providers.ImageRequest{Prompt: "a small red paper-cut circle on white", N: 1})
	if err == nil && len(imgs) == 0 {
		err = errors.New("no image came back")
	}
	d.modelResult("image model", model, "IMAGE_MODEL", time.Since(start), err)
}

// modelResult turns a model call's outcome into a line with the variable
// to fix. A reply with no text (a reasoning model that used the tiny
// budget) still proves the key and model work.
func (d *doctor) modelResult(name, model, modelVar string, took time.Duration, err error) {
	if err == nil || providers.KindOf(err) == providers.KindEmpty {
		d.add(check{name: name, status: checkOK, detail: fmt.Sprintf("%s answered in %s", model, took.Round(10*time.Millisecond))})
		return
	}
	r := check{name: name, status: checkFail, detail: model + ": " + err.Error()}
	var pe *providers.Error
	errors.As(err, &pe)
	variable := ""
	if pe != nil {
		variable = pe.Variable
	}
	switch providers.KindOf(err) {
	case providers.KindAuth:
		r.detail = model + ": the key was rejected"
		if pe != nil && pe.Status != 0 {
			r.detail += fmt.Sprintf(" (HTTP %d)", pe.Status)
		}
		r.fix = "check " + orDefault(variable, "the provider's key variable")
	case providers.KindNoCredits:
		r.fix = "add credits to the account, or switch AI_PROVIDER"
	case providers.KindBadRequest:
		r.fix = "check " + modelVar + " (does the model exist on this provider?)"
	case providers.KindRateLimit:
		r.fix = "the key is rate limited or out of quota: wait, or raise the limit with the provider"
	case providers.KindTimeout, providers.KindNetwork:
		r.fix = "check the base URL variable (AI_BASE_URL, VISION_BASE_URL, IMAGE_BASE_URL) and the network"
	default:
		if errors.Is(err, context.DeadlineExceeded) {
			r.fix = "the provider did not answer in time; check the base URL and the network"
		} else {
			r.fix = "see the error; LOG_LEVEL=debug tableround console shows more"
		}
	}
	d.add(r)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// tinyPNG is a 16×16 red square for the vision check.
func tinyPNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		for y := range 16 {
			img.Set(x, y, color.NRGBA{R: 200, G: 20, B: 30, A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // encoding to memory cannot fail
	return b.Bytes()
}

// checkStore checks Redis when REDIS_URL is set, else that DATA_DIR is
// writable for the embedded store.
func (d *doctor) checkStore(ctx context.Context, l envconfig.Lookuper) {
	var sc StoreConfig
	if err := loadConfig(ctx, l, &sc); err != nil {
		d.add(check{name: "store", status: checkFail, detail: err.Error(), fix: "fix that variable"})
		return
	}
	if sc.RedisURL != "" {
		d.checkRedis(ctx, sc.RedisURL)
		return
	}
	if err := os.MkdirAll(sc.DataDir, 0o755); err != nil {
		d.add(check{name: "store", status: checkFail, detail: "DATA_DIR cannot be created: " + err.Error(), fix: "point DATA_DIR at a writable directory"})
		return
	}
	f, err := os.CreateTemp(sc.DataDir, ".doctor-*")
	if err != nil {
		d.add(check{name: "store", status: checkFail, detail: "DATA_DIR is not writable: " + err.Error(), fix: "point DATA_DIR at a writable directory"})
		return
	}
	f.Close()
	os.Remove(f.Name())
	d.add(check{name: "store", status: checkOK, detail: "embedded store in " + filepath.Join(sc.DataDir, "tableround.db") +
		" (one process only; set REDIS_URL to run several replicas)"})
}
