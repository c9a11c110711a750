package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/store"
)

func TestServeNeedsAPlatform(t *testing.T) {
	cleanEnv(t)
	t.Setenv("AI_PROVIDER", "demo")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, strings.NewReader(""), &out, &errb); code != exitUsage {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "DISCORD_TOKEN or TELEGRAM_TOKEN") {
		t.Fatalf("stderr: %s", errb.String())
	}
}

func TestServeNeverFallsBackToDemo(t *testing.T) {
	cleanEnv(t)
	t.Setenv("DISCORD_TOKEN", "x")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"serve"}, strings.NewReader(""), &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "OPENROUTER_API_KEY") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// A mention starts a roundtable in a thread where six personas post
// through one webhook; SIGTERM stops serve cleanly and leaves the session
// resumable.
func TestServeDiscordMentionThenShutdown(t *testing.T) {
	dir := cleanEnv(t)
	fake := discordfake.New(discordfake.Options{Token: "tok", Limits: discordfake.DiscordLimits()})
	t.Cleanup(fake.Close)
	guild := fake.NewID()
	channel := fake.AddChannel(discordfake.Channel{GuildID: guild, Type: 0}).ID
	t.Setenv("AI_PROVIDER", "demo")
	t.Setenv("DISCORD_TOKEN", "tok")
	t.Setenv("DISCORD_API_URL", fake.URL())
	t.Setenv("DISCORD_GUILD_ID", guild)
	addr := freeAddr(t)
	t.Setenv("HTTP_ADDR", addr)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &out, &errb) }()

	waitUntil(t, "the gateway connection", func() bool { return fake.Connected() > 0 })
	if _, err := fake.PostUser(channel, discordfake.User{ID: fake.NewID(), Name: "ada"}, "design a paper-cut kite", true); err != nil {
		t.Fatal(err)
	}
	var thread string
	waitUntil(t, "six personas speaking in a thread", func() bool {
		for _, c := range fake.Channels() {
			if c.ParentID == channel {
				thread = c.ID
			}
		}
		if thread == "" {
			return false
		}
		names := map[string]bool{}
		for _, m := range fake.Messages(thread) {
			// A persona's message carries words (a placeholder that had to
			// wait may be created with them, so an edit is not required).
			if m.WebhookID != "" && strings.TrimSpace(strings.TrimLeft(m.Content, "…")) != "" && !strings.HasPrefix(m.Content, "…") {
				names[m.Username] = true
			}
		}
		return len(names) >= 6
	})
	// Health, readiness (store and platform state) and metrics while serving.
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  `"discord"`,
		"/metrics": "tableround_sessions_active 1",
	} {
		body, code := get(t, "http://"+addr+path)
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("GET %s = %d, want %q in:\n%.2000s", path, code, want, body)
		}
	}
	cancel() // SIGTERM
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve exit %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if n := fake.RateLimited(); n != 0 {
		t.Fatalf("the bot received %d 429s", n)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Fatalf("platform rule violations: %v", v)
	}
	st := openTestStore(t, dir)
	list, err := st.ListSessions(context.Background(), "discord:"+thread, 5)
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions in the thread: %v %v", list, err)
	}
	if list[0].Status != store.StatusRunning {
		t.Fatalf("after SIGTERM the session must stay resumable (running), got %s", list[0].Status)
	}
	if _, err := st.LoadCheckpoint(context.Background(), list[0].ID); err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, url string) (string, int) {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tokens that both platforms reject stop each for good, and serve exits
// non-zero instead of retrying them forever.
func TestServeExitsWhenEveryTokenIsRejected(t *testing.T) {
	cleanEnv(t)
	dfake := discordfake.New(discordfake.Options{Token: "right-token"})
	t.Cleanup(dfake.Close)
	tfake := telegramfake.New(telegramfake.Options{})
	t.Cleanup(tfake.Close)
	t.Setenv("AI_PROVIDER", "demo")
	t.Setenv("DISCORD_TOKEN", "wrong-token")
	t.Setenv("DISCORD_API_URL", dfake.URL())
	t.Setenv("TELEGRAM_TOKEN", "999:unknown-token")
	t.Setenv("TELEGRAM_API_URL", tfake.URL())
	t.Setenv("HTTP_ADDR", freeAddr(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a safety net
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"serve"}, strings.NewReader(""), &out, &errb)
	if ctx.Err() != nil {
		t.Fatalf("serve kept retrying rejected tokens: %s", errb.String())
	}
	if code != exitFailure {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// doctor, against the same fakes, agrees.
	out.Reset()
	if code := runDoctor(context.Background(), nil, &out, &errb); code != 1 ||
		!strings.Contains(out.String(), "✗ Discord bot — the token was rejected (HTTP 401)") ||
		!strings.Contains(out.String(), "✗ Telegram bot — the token was rejected") {
		t.Fatalf("doctor exit %d:\n%s", code, out.String())
	}
}

// One rejected platform is marked in /readyz and stays off; the other goes
// on serving and the process stays ready.
func TestServeKeepsTheOtherPlatformWhenOneIsRejected(t *testing.T) {
	cleanEnv(t)
	dfake := discordfake.New(discordfake.Options{Token: "right-token"})
	t.Cleanup(dfake.Close)
	tfake := telegramfake.New(telegramfake.Options{})
	t.Cleanup(tfake.Close)
	tfake.AddBot("100:good-token", "tableround_bot")
	t.Setenv("AI_PROVIDER", "demo")
	t.Setenv("DISCORD_TOKEN", "wrong-token")
	t.Setenv("DISCORD_API_URL", dfake.URL())
	t.Setenv("TELEGRAM_TOKEN", "100:good-token")
	t.Setenv("TELEGRAM_API_URL", tfake.URL())
	addr := freeAddr(t)
	t.Setenv("HTTP_ADDR", addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &out, &errb) }()
	var body string
	waitUntil(t, "discord rejected in /readyz", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK && strings.Contains(body, `"rejected"`) && strings.Contains(body, `"telegram": {`)
	})
	if strings.Contains(body, "wrong-token") {
		t.Fatalf("/readyz shows the token: %s", body)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after a clean shutdown", code)
	}
}
