package telegram

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
)

func TestConfigValidatedAtStart(t *testing.T) {
	t.Parallel()
	const good = "https://bot.example.com/tg"
	for _, c := range []struct {
		name, token, url, secret, want string
	}{
		{"ok polling", "123:abc_DEF-9", "", "", ""},
		{"ok webhook", "123:abc", good, "s3cret_-X", ""},
		{"ok port 8443", "123:abc", "https://bot.example.com:8443/tg", "s", ""},
		{"malformed token", "not a token", "", "", "TELEGRAM_TOKEN is malformed"},
		{"token with a slash", "123:ab/c", "", "", "TELEGRAM_TOKEN is malformed"},
		{"no secret", "123:abc", good, "", "TELEGRAM_WEBHOOK_SECRET is required"},
		{"secret characters", "123:abc", good, "sec ret!", "may only hold A-Z, a-z, 0-9, _ and -"},
		{"secret too long", "123:abc", good, strings.Repeat("a", 257), "1 to 256 characters"},
		{"http", "123:abc", "http://bot.example.com/tg", "hook-secret", "must use https"},
		{"port", "123:abc", "https://bot.example.com:8080/tg", "hook-secret", "port 8080 is not one Telegram sends to"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(Config{Token: c.token, WebhookURL: c.url, WebhookSecret: c.secret}, newTestHandler(), Options{})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("New = %v, want %q", err, c.want)
			case err != nil && (strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), c.token) || (c.secret != "" && strings.Contains(err.Error(), c.secret))):
				t.Fatalf("error is not one line without secrets: %q", err)
			}
		})
	}
	if _, err := New(Config{Token: "123:abc", PersonaTokens: []string{"craftsman=oops"}}, newTestHandler(), Options{}); err == nil ||
		!strings.Contains(err.Error(), "TELEGRAM_PERSONA_TOKENS[0] is malformed") {
		t.Fatalf("malformed persona token: %v", err)
	}
}

// A token the Bot API does not know ends Run with bot.ErrRejected (serve
// stops that platform for good) instead of retrying.
func TestRunRejectedToken(t *testing.T) {
	t.Parallel()
	fake := telegramfake.New(telegramfake.Options{})
	t.Cleanup(fake.Close)
	fake.AddBot(mainToken, botName)
	a, err := New(Config{Token: "999:unknown-secret", APIURL: fake.URL()}, newTestHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a safety net
	defer cancel()
	err = a.Run(ctx)
	if !errors.Is(err, bot.ErrRejected) || strings.Contains(err.Error(), "unknown-secret") {
		t.Fatalf("Run = %v, want ErrRejected without the token", err)
	}
}
