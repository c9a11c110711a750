package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers/providertest"
)

// discordFake answers the four Discord endpoints doctor calls. The bot's
// role grants perms; the application has flags.
func discordFake(t *testing.T, token string, perms uint64, flags uint64) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bot "+token {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"message": "401: Unauthorized", "code": 0}`))
				return
			}
			h(w, r)
		}
	}
	reply := func(v any) http.HandlerFunc {
		return auth(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(v) })
	}
	mux.HandleFunc("GET /api/v10/users/@me", reply(map[string]any{"id": "900", "username": "TableRound", "bot": true}))
	mux.HandleFunc("GET /api/v10/applications/@me", reply(map[string]any{"id": "900", "flags": flags}))
	mux.HandleFunc("GET /api/v10/guilds/42/members/900", reply(map[string]any{"roles": []string{"7"}}))
	mux.HandleFunc("GET /api/v10/guilds/42/roles", reply([]map[string]any{
		{"id": "42", "permissions": "0"}, // @everyone
		{"id": "7", "permissions": strconv.FormatUint(perms, 10)},
		{"id": "8", "permissions": "8"}, // an Administrator role the bot does not have
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// closedPort is a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	const token = "discord-secret-token"
	all := neededPermissions()
	tests := []struct {
		name     string
		env      func(t *testing.T) map[string]string
		args     []string
		code     int
		want     []string // lines (or parts of lines) that must appear
		dontWant []string
	}{
		{name: "demo model and no platforms is fine", code: 0,
			env:  func(*testing.T) map[string]string { return map[string]string{"AI_PROVIDER": "demo"} },
			want: []string{"✓ configuration — ", "✓ chat model — built-in demo model", "✓ store — embedded store in "}},
		{name: "nothing configured is a warning", code: 0,
			env:  func(*testing.T) map[string]string { return map[string]string{} },
			want: []string{"⚠ chat model — nothing configured"}},
		{name: "wrong model key", code: 1,
			env: func(t *testing.T) map[string]string {
				fake := providertest.NewOpenAI(t)
				fake.RespondWith(func(providertest.Request) providertest.Reply {
					return providertest.Reply{Status: 401, Body: `{"error": {"message": "Incorrect API key provided: sk-wrong-secret"}}`}
				})
				return map[string]string{"AI_PROVIDER": "openai", "AI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": "sk-wrong-secret"}
			},
			want:     []string{"✗ chat model — openai/", "the key was rejected (HTTP 401) — check OPENAI_API_KEY", "✗ vision model — "},
			dontWant: []string{"sk-wrong-secret"}},
		{name: "bad configuration names the variable", code: 1,
			env:  func(*testing.T) map[string]string { return map[string]string{"AI_PROVIDER": "demo", "MAX_TURNS": "99"} },
			want: []string{"✗ configuration — MAX_TURNS must be 1 to 10"}},
		{name: "Discord bot missing Manage Webhooks", code: 1,
			env: func(t *testing.T) map[string]string {
				srv := discordFake(t, token, all&^(1<<29), 0)
				return map[string]string{"AI_PROVIDER": "demo", "DISCORD_TOKEN": token, "DISCORD_API_URL": srv.URL, "DISCORD_GUILD_ID": "42"}
			},
			want:     []string{"✓ Discord bot — signed in as TableRound (900)", "✗ Discord permissions in guild 42 — missing Manage Webhooks — grant them"},
			dontWant: []string{token, "Attach Files", "Embed Links"}},
		{name: "Discord all permissions", code: 0,
			env: func(t *testing.T) map[string]string {
				srv := discordFake(t, token, all, 1<<18)
				return map[string]string{"AI_PROVIDER": "demo", "DISCORD_TOKEN": token, "DISCORD_API_URL": srv.URL, "DISCORD_GUILD_ID": "42",
					"DISCORD_MESSAGE_CONTENT": "true"}
			},
			want: []string{"✓ Discord permissions in guild 42 — all needed permissions", "✓ Discord intents — Message Content intent on"}},
		{name: "Discord intent requested but off", code: 1,
			env: func(t *testing.T) map[string]string {
				srv := discordFake(t, token, all, 0)
				return map[string]string{"AI_PROVIDER": "demo", "DISCORD_TOKEN": token, "DISCORD_API_URL": srv.URL, "DISCORD_MESSAGE_CONTENT": "true"}
			},
			want: []string{"✗ Discord intents — DISCORD_MESSAGE_CONTENT=true but the Message Content intent is off", "⚠ Discord permissions — DISCORD_GUILD_ID is not set"}},
		{name: "Discord wrong token", code: 1,
			env: func(t *testing.T) map[string]string {
				srv := discordFake(t, "the-right-token", all, 0)
				return map[string]string{"AI_PROVIDER": "demo", "DISCORD_TOKEN": token, "DISCORD_API_URL": srv.URL}
			},
			want: []string{"✗ Discord bot — the token was rejected (HTTP 401) — check DISCORD_TOKEN"}, dontWant: []string{token}},
		{name: "Redis down", code: 1,
			env: func(t *testing.T) map[string]string {
				return map[string]string{"AI_PROVIDER": "demo", "REDIS_URL": "redis://:redis-password@" + closedPort(t) + "/0"}
			},
			want: []string{"✗ Redis — no answer from 127.0.0.1:", "start Redis or fix REDIS_URL"}, dontWant: []string{"redis-password"}},
		{name: "Telegram", code: 0,
			env: func(t *testing.T) map[string]string {
				srv := telegramFake(t, "123:tg-secret")
				return map[string]string{"AI_PROVIDER": "demo", "TELEGRAM_TOKEN": "123:tg-secret", "TELEGRAM_API_URL": srv.URL,
					"TELEGRAM_WEBHOOK_URL": "https://bot.example.com/telegram/hook-secret"}
			},
			want:     []string{"✓ Telegram bot — @tableround_bot, privacy mode on", "⚠ Telegram webhook — set to https://bot.example.com, but the last delivery failed: Connection refused"},
			dontWant: []string{"tg-secret", "hook-secret"}},
		{name: "Telegram wrong token", code: 1,
			env: func(t *testing.T) map[string]string {
				srv := telegramFake(t, "123:tg-secret")
				return map[string]string{"AI_PROVIDER": "demo", "TELEGRAM_TOKEN": "999:wrong-secret", "TELEGRAM_API_URL": srv.URL}
			},
			want: []string{"✗ Telegram bot — the token was rejected (401 Unauthorized) — check TELEGRAM_TOKEN"}, dontWant: []string{"wrong-secret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, env := testEnv(t)
			maps.Copy(env, tc.env(t))
			var out, errb bytes.Buffer
			code := runDoctor(context.Background(), envOf(env), tc.args, &out, &errb)
			text := out.String()
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, w := range tc.dontWant {
				if strings.Contains(text+errb.String(), w) {
					t.Errorf("report contains %q", w)
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
				if !strings.HasPrefix(line, "✓ ") && !strings.HasPrefix(line, "✗ ") && !strings.HasPrefix(line, "⚠ ") {
					t.Errorf("line is not a check: %q", line)
				}
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("report:\n%s%s", text, errb.String())
			}
		})
	}
}

// telegramFake answers getMe and getWebhookInfo for one token.
func telegramFake(t *testing.T, token string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/bot"+token+"/") {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"ok": false, "error_code": 401, "description": "Unauthorized"}`))
			return
		}
		switch strings.TrimPrefix(r.URL.Path, "/bot"+token) {
		case "/getMe":
			_, _ = w.Write([]byte(`{"ok": true, "result": {"id": 123, "is_bot": true, "username": "tableround_bot", "can_read_all_group_messages": false}}`))
		case "/getWebhookInfo":
			_, _ = w.Write([]byte(`{"ok": true, "result": {"url": "https://bot.example.com/telegram/hook-secret", "pending_update_count": 3, "last_error_message": "Connection refused"}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDoctorUsage(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	var out, errb bytes.Buffer
	if code := runDoctor(context.Background(), envOf(env), []string{"extra"}, &out, &errb); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
}

// A real redis-server without persistence: reachable (exit 0) with a
// warning naming appendonly.
func TestDoctorRedisWithoutPersistence(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	_, env := testEnv(t)
	addr := closedPort(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	eventually.True(t, "redis-server to listen on "+addr, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	env["AI_PROVIDER"] = "demo"
	env["REDIS_URL"] = "redis://" + addr + "/0"
	var out, errb bytes.Buffer
	code := runDoctor(context.Background(), envOf(env), nil, &out, &errb)
	text := out.String()
	if code != 0 || !strings.Contains(text, "✓ Redis — Redis ") || !strings.Contains(text, "⚠ Redis persistence — neither AOF nor RDB") {
		t.Errorf("exit %d\n%s%s", code, text, errb.String())
	}
}
