package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const (
	tgToken      = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	discordToken = "MTA5ODc2NTQzMjEwOTg3NjU0MzI.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"telegram URL", "https://api.telegram.org/bot" + tgToken + "/getMe", "https://api.telegram.org/bot" + Redacted + "/getMe"},
		{"telegram file URL", "https://api.telegram.org/file/bot" + tgToken + "/photos/a.jpg", "https://api.telegram.org/file/bot" + Redacted + "/photos/a.jpg"},
		{"bare telegram token", "persona=" + tgToken, "persona=" + Redacted},
		{"bearer", "Authorization: Bearer sk-or-v1-abcdef0123456789abcdef", "Authorization: Bearer " + Redacted},
		{"discord token", "Authorization: Bot " + discordToken, "Authorization: Bot " + Redacted},
		{"openai key", "bad key sk-proj-ABCDEFGHIJKLMNOPQRST", "bad key " + Redacted},
		{"gemini key", "key AIzaSyA1234567890abcdefghijklmnopqrstu", "key " + Redacted},
		{"redis password", "dial redis://default:s3cr3t@redis:6379/0", "dial redis://default:" + Redacted + "@redis:6379/0"},
		{"query key", "GET https://x/v1?alt=sse&key=abc123&x=1", "GET https://x/v1?alt=sse&key=" + Redacted + "&x=1"},
		{"plain text untouched", "the bot replied to Bearer of good news: 12:30", "the bot replied to Bearer of good news: 12:30"},
		{"timestamps untouched", "at 2025-01-02T10:11:12Z took 300ms", "at 2025-01-02T10:11:12Z took 300ms"},
		{"URL without password", "https://user@host/path", "https://user@host/path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSecretKey(t *testing.T) {
	tests := map[string]bool{
		"token": true, "TELEGRAM_TOKEN": true, "api_key": true, "apiKey": true, "X-Api-Key": true,
		"secret": true, "webhook_secret": true, "password": true, "Authorization": true, "apikey": true,
		"keywords": false, "tokens": false, "max_tokens": false, "err": false, "session": false, "monkey": false,
	}
	for key, want := range tests {
		t.Run(key, func(t *testing.T) {
			if got := secretKey(key); got != want {
				t.Errorf("secretKey(%q) = %v, want %v", key, got, want)
			}
		})
	}
}

func TestNewLoggerRedacts(t *testing.T) {
	urlErr := &url.Error{Op: "Get", URL: "https://api.telegram.org/bot" + tgToken + "/getUpdates", Err: errors.New("EOF")}
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := NewLogger("debug", format, &buf)
			log.Debug("call",
				"token", tgToken,
				"api_key", "plain-looking-value",
				"err", fmt.Errorf("poll: %w", urlErr),
				"url", "https://api.telegram.org/bot"+tgToken+"/sendMessage",
				"header", "Bearer abcdefghijklmnop",
				"tokens", 1234,
				"keywords", "lantern, red",
				"empty_secret", "",
			)
			log.With("component", "x").WithGroup("req").Info("grouped", "authorization", "Bot "+discordToken)
			out := buf.String()
			for _, leak := range []string{tgToken, "plain-looking-value", "abcdefghijklmnop", discordToken} {
				if strings.Contains(out, leak) {
					t.Errorf("log leaks %q:\n%s", leak, out)
				}
			}
			for _, keep := range []string{"1234", "lantern, red", "poll: Get", "sendMessage", "EOF"} {
				if !strings.Contains(out, keep) {
					t.Errorf("log lost %q:\n%s", keep, out)
				}
			}
			if format == "json" {
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if !json.Valid([]byte(line)) {
						t.Errorf("not JSON: %s", line)
					}
				}
			}
		})
	}
}

func TestNewLoggerLevel(t *testing.T) {
	tests := []struct {
		level     string
		wantDebug bool
		wantInfo  bool
	}{
		{"debug", true, true},
		{"info", false, true},
		{"WARN", false, false},
		{"nonsense", false, true},
		{"", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			var buf bytes.Buffer
			log := NewLogger(tt.level, "text", &buf)
			log.Debug("d-line")
			log.Info("i-line")
			out := buf.String()
			if strings.Contains(out, "d-line") != tt.wantDebug || strings.Contains(out, "i-line") != tt.wantInfo {
				t.Errorf("level %q logged:\n%s", tt.level, out)
			}
		})
	}
}
