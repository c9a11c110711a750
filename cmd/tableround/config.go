package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/sethvargo/go-envconfig"

	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/roundtable"
)

// StoreConfig selects and tunes the store.
type StoreConfig struct {
	RedisURL   string        `env:"REDIS_URL"`
	DataDir    string        `env:"DATA_DIR, default=./data"`
	SessionTTL time.Duration `env:"SESSION_TTL, default=24h"`
	ExportTTL  time.Duration `env:"EXPORT_TTL, default=720h"`
	MemoryTTL  time.Duration `env:"MEMORY_TTL, default=2160h"`
}

// LogConfig configures slog.
type LogConfig struct {
	Level  string `env:"LOG_LEVEL, default=info"`
	Format string `env:"LOG_FORMAT, default=text"`
}

// Config is the whole configuration contract of DESIGN §4, read once.
type Config struct {
	Session roundtable.Config
	Store   StoreConfig
	Log     LogConfig
}

// ConfigError is a bad or missing setting: one line naming the variable,
// exit code 2.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// environ gives a command its settings. main passes lookuper (the process
// environment over ./.env), tests a map of exactly the variables they set.
// A command calls it when it first needs a setting, so a bad .env fails
// only the commands that read the configuration.
type environ func() (envconfig.Lookuper, error)

// lookuper reads the process environment first, then ./.env. An empty
// value counts as unset, so `MAX_TURNS=` in .env means the default.
func lookuper() (envconfig.Lookuper, error) {
	dot, err := godotenv.Read(".env")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nonEmpty{envconfig.OsLookuper()}, nil
		}
		return nil, &ConfigError{Msg: fmt.Sprintf(".env: %v", err)}
	}
	return nonEmpty{envconfig.MultiLookuper(nonEmpty{envconfig.OsLookuper()}, envconfig.MapLookuper(dot))}, nil
}

// nonEmpty hides variables that are set to the empty string.
type nonEmpty struct{ l envconfig.Lookuper }

func (n nonEmpty) Lookup(key string) (string, bool) {
	v, ok := n.l.Lookup(key)
	return v, ok && v != ""
}

// loadConfig fills cfg (any struct with env tags) from the environment.
func loadConfig(ctx context.Context, l envconfig.Lookuper, cfg any) error {
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: cfg, Lookuper: l}); err != nil {
		return &ConfigError{Msg: describeEnvError(cfg, err)}
	}
	return nil
}

// describeEnvError turns go-envconfig's "Session: VotingThreshold: cause"
// into "VOTING_THRESHOLD: cause", naming the variable people set.
func describeEnvError(target any, err error) string {
	names := map[string]string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if tag := f.Tag.Get("env"); tag != "" {
				names[f.Name] = strings.TrimSpace(strings.Split(tag, ",")[0])
			} else {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeOf(target))
	parts := strings.Split(err.Error(), ": ")
	for i := len(parts) - 1; i >= 0; i-- {
		if v, ok := names[parts[i]]; ok {
			return v + ": " + strings.Join(parts[i+1:], ": ")
		}
	}
	return "configuration: " + err.Error()
}

// loadBase reads the settings every command shares and validates them.
func loadBase(ctx context.Context, l envconfig.Lookuper) (Config, error) {
	var cfg Config
	if err := loadConfig(ctx, l, &cfg); err != nil {
		return cfg, err
	}
	cfg.Session.Language = gettextLanguage(cfg.Session.Language)
	s := cfg.Session
	switch {
	case s.MaxTurns < 1 || s.MaxTurns > 10:
		return cfg, &ConfigError{Msg: fmt.Sprintf("MAX_TURNS must be 1 to 10, got %d", s.MaxTurns)}
	case s.MaxKeywords < 3 || s.MaxKeywords > 30:
		return cfg, &ConfigError{Msg: fmt.Sprintf("MAX_KEYWORDS must be 3 to 30, got %d", s.MaxKeywords)}
	case s.VotingThreshold <= 0 || s.VotingThreshold > 1:
		return cfg, &ConfigError{Msg: fmt.Sprintf("VOTING_THRESHOLD must be in (0, 1], got %g", s.VotingThreshold)}
	case s.UserInputTimeout < time.Second:
		return cfg, &ConfigError{Msg: fmt.Sprintf("USER_INPUT_TIMEOUT must be at least 1s, got %s", s.UserInputTimeout)}
	}
	return cfg, nil
}

// readConfig reads env once for a command: the settings every command
// shares (validated) and each of the command's own structs in extra. A bad
// value is one line on stderr naming the variable; ok is false and the
// command exits with exitUsage.
func readConfig(ctx context.Context, env environ, stderr io.Writer, extra ...any) (l envconfig.Lookuper, cfg Config, ok bool) {
	l, err := env()
	if err == nil {
		cfg, err = loadBase(ctx, l)
	}
	for _, e := range extra {
		if err != nil {
			break
		}
		err = loadConfig(ctx, l, e)
	}
	if err != nil {
		fmt.Fprintln(stderr, "tableround:", err)
		return nil, cfg, false
	}
	return l, cfg, true
}

// gettextLanguage reads LANGUAGE the way gettext does ("zh_CN:en" → the
// first language we have), so a desktop locale never breaks start-up.
func gettextLanguage(v string) string {
	for _, part := range strings.Split(v, ":") {
		l := strings.ToLower(part)
		if i := strings.IndexAny(l, "_.@-"); i >= 0 {
			l = l[:i]
		}
		if l == "en" || l == "zh" {
			return l
		}
	}
	return "en"
}

// newLogger builds the root logger (secrets redacted). Console sessions
// log to a file so log lines never interleave with the session.
func newLogger(c LogConfig, w *os.File) *slog.Logger {
	return ops.NewLogger(c.Level, c.Format, w)
}

// parseOperators reads OPERATOR_IDS: <platform>:<user ID> entries, the
// platform one of discord, telegram, console, the ID digits (console: any).
func parseOperators(ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, raw := range ids {
		id := strings.TrimSpace(raw)
		if id == "" {
			continue
		}
		platform, user, ok := strings.Cut(id, ":")
		valid := ok && user != ""
		switch platform {
		case "discord", "telegram":
			valid = valid && strings.Trim(user, "0123456789") == ""
		case "console":
		default:
			valid = false
		}
		if !valid {
			return nil, fmt.Errorf("OPERATOR_IDS: %q is not <platform>:<user ID> (e.g. discord:80351110224678912 or telegram:12345)", id)
		}
		out[id] = true
	}
	return out, nil
}
