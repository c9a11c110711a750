package ops

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// Redacted replaces a secret in logs and reports.
const Redacted = "[REDACTED]"

// NewLogger builds the root logger: level is a slog level name ("debug",
// "info", "warn", "error"; anything else means info), format is "json" or
// text. Every attribute passes through Redact: attributes named like a
// secret (token, key, secret, password, authorization, ...) lose their
// value, and secrets inside strings and errors are masked.
func NewLogger(level, format string, w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.TrimSpace(level))); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: redactAttr}
	if strings.EqualFold(strings.TrimSpace(format), "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// secretWords are the words of an attribute key whose value is a secret.
var secretWords = map[string]bool{
	"token": true, "key": true, "apikey": true, "secret": true, "password": true, "passwd": true,
	"authorization": true, "auth": true, "credential": true, "credentials": true, "cookie": true,
}

// secretKey reports whether an attribute key names a secret. Keys are split
// into words at '_', '-', '.', spaces and camel case, so "api_key",
// "apiKey" and "X-Api-Key" are secrets while "keywords" and "tokens" (a
// count) are not.
func secretKey(key string) bool {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range key {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	for _, w := range words {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// secretPattern masks one kind of secret.
type secretPattern struct {
	re   *regexp.Regexp
	repl string
}

// secretPatterns mask secrets inside free text. They are compiled on first
// use, not at start-up: a one-shot command (tableround image) never logs
// a secret and should not pay for them.
var secretPatterns = sync.OnceValue(func() []secretPattern {
	return []secretPattern{
		// Telegram bot tokens, bare or in API paths (/bot123456:AA…/getMe).
		{regexp.MustCompile(`\b(bot)?\d{5,}:[A-Za-z0-9_-]{30,}`), "${1}" + Redacted},
		// Bearer values of Authorization headers.
		{regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}`), "${1}" + Redacted},
		// Discord bot tokens: three base64url parts.
		{regexp.MustCompile(`\b[A-Za-z0-9_-]{23,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}`), Redacted},
		// OpenAI / OpenRouter / DeepSeek style keys and Google API keys.
		{regexp.MustCompile(`\b(?:sk-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{30,})`), Redacted},
		// Passwords in URLs: scheme://user:password@host.
		{regexp.MustCompile(`(\b[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@\s/]+@`), "${1}" + Redacted + "@"},
		// Secrets in query strings.
		{regexp.MustCompile(`(?i)([?&](?:key|api_key|apikey|token|access_token|secret|password|sig)=)[^&\s"']+`),
			"${1}" + Redacted},
	}
})

// Redact masks secrets (Telegram and Discord tokens, Bearer values, API
// keys, URL passwords, secret query parameters) inside s.
func Redact(s string) string {
	for _, p := range secretPatterns() {
		if p.re.MatchString(s) {
			s = p.re.ReplaceAllString(s, p.repl)
		}
	}
	return s
}

// redactAttr is the ReplaceAttr of NewLogger.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	if secretKey(a.Key) {
		if !isEmpty(a.Value) {
			a.Value = slog.StringValue(Redacted)
		}
		return a
	}
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(Redact(a.Value.String()))
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(Redact(v.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(Redact(v.String()))
		}
	}
	return a
}

func isEmpty(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindString:
		return v.String() == ""
	case slog.KindAny:
		return v.Any() == nil
	}
	return false
}
