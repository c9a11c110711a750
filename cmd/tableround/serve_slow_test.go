//go:build slow

package main

import (
	"bytes"
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/store"
)

// A mention starts a roundtable in a thread where six personas post
// through one webhook; SIGTERM stops serve cleanly and leaves the session
// resumable.
func TestServeDiscordMentionThenShutdown(t *testing.T) {
	t.Parallel()
	dir, env := testEnv(t)
	fake := discordfake.New(discordfake.Options{Token: "tok", Limits: discordfake.DiscordLimits()})
	t.Cleanup(fake.Close)
	guild := fake.NewID()
	channel := fake.AddChannel(discordfake.Channel{GuildID: guild, Type: 0}).ID
	addr := freeAddr(t)
	maps.Copy(env, map[string]string{"AI_PROVIDER": "demo",
		"DISCORD_TOKEN": "tok", "DISCORD_API_URL": fake.URL(), "DISCORD_GUILD_ID": guild, "HTTP_ADDR": addr})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb) }()

	eventually.Within(t, time.Minute, "the gateway connection", func() bool { return fake.Connected() > 0 })
	if _, err := fake.PostUser(channel, discordfake.User{ID: fake.NewID(), Name: "ada"}, "design a paper-cut kite", true); err != nil {
		t.Fatal(err)
	}
	var thread string
	eventually.Within(t, time.Minute, "six personas speaking in a thread", func() bool {
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
