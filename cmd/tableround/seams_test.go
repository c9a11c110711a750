package main

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord"
	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/bot/telegram"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/store/bolt"
)

// These tests wire the real manager to a real adapter and its platform
// fake, as serve does: they check what the seam between them guarantees.

func seamManager(t *testing.T, deps roundtable.Deps, o roundtable.ManagerOptions) (*roundtable.Manager, context.Context) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if deps.Chat == nil {
		deps.Chat = demo.New(demo.Realistic()) // slow enough that the sessions still run
	}
	o.ShutdownGrace, o.ScanEvery = 50*time.Millisecond, time.Hour
	m := roundtable.NewManager(roundtable.Config{MaxTurns: 1, Language: "en", Pack: "papercut"}, deps, st, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return m, ctx
}

// A start the manager refuses (over the person's hourly limit, or the
// process is busy) leaves no thread and no webhook on Discord: the adapter
// opens a session's place only once the manager has decided to start.
func TestRefusedStartLeavesNoThreadOrWebhook(t *testing.T) {
	t.Parallel()
	fake := discordfake.New(discordfake.Options{Token: "tok", Limits: discordfake.DiscordLimits()})
	t.Cleanup(fake.Close)
	guild := fake.NewID()
	var chans [4]string
	for i := range chans {
		chans[i] = fake.AddChannel(discordfake.Channel{GuildID: guild, Type: 0}).ID
	}
	mgr, ctx := seamManager(t, roundtable.Deps{}, roundtable.ManagerOptions{Owner: "p1", UserSessionLimit: 1, MaxSessions: 2})
	a, err := discord.New(discord.Config{Token: "tok", APIURL: fake.URL()}, mgr, discord.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.Run(ctx) }()
	eventually.True(t, "the gateway connection", func() bool { return fake.Connected() > 0 })

	ada, bo, cy := discordfake.User{ID: fake.NewID(), Name: "ada"}, discordfake.User{ID: fake.NewID(), Name: "bo"}, discordfake.User{ID: fake.NewID(), Name: "cy"}
	threadsOf := func(ch string) int {
		n := 0
		for _, c := range fake.Channels() {
			if c.ParentID == ch {
				n++
			}
		}
		return n
	}
	replied := func(ch, want string) bool {
		for _, m := range fake.Messages(ch) {
			if strings.Contains(m.Content, want) {
				return true
			}
		}
		return false
	}
	start := func(ch string, u discordfake.User) {
		t.Helper()
		if _, err := fake.PostUser(ch, u, "design a paper-cut kite", true); err != nil {
			t.Fatal(err)
		}
	}
	start(chans[0], ada)
	eventually.True(t, "ada's session thread", func() bool { return threadsOf(chans[0]) == 1 })
	start(chans[1], ada) // over her limit of one start an hour
	eventually.True(t, "the limit's refusal", func() bool { return replied(chans[1], "limit") })
	start(chans[2], bo)
	eventually.True(t, "bo's session thread", func() bool { return threadsOf(chans[2]) == 1 })
	eventually.True(t, "two sessions running", func() bool { return mgr.Running() == 2 })
	start(chans[3], cy) // two sessions run: the process is busy
	eventually.True(t, "the busy refusal", func() bool { return replied(chans[3], "as many roundtables") })

	for _, ch := range []string{chans[1], chans[3]} {
		if n := threadsOf(ch); n != 0 {
			t.Errorf("a refused start left %d threads in %s", n, ch)
		}
		if hooks := fake.Webhooks(ch); len(hooks) != 0 {
			t.Errorf("a refused start left %d webhooks in %s", len(hooks), ch)
		}
	}
	// The started session does get webhooks (made when its personas first
	// speak), so the check above can fail.
	eventually.True(t, "the started session's webhooks", func() bool { return len(fake.Webhooks(chans[0])) > 0 })
}

// /stop right after a photo is answered while the photo is still being
// prepared: the decode is the session's first step, not part of Handle or
// the chat's queue. The preparer is held on a channel, so the order is
// asserted, not a wall-clock time.
func TestTelegramStopWhilePhotoPrepares(t *testing.T) {
	t.Parallel()
	fake := telegramfake.New(telegramfake.Options{})
	t.Cleanup(fake.Close)
	const token, chat = "111:main-secret-token", int64(501)
	fake.AddBot(token, "tableround_bot")
	fake.AddChat(telegramfake.Chat{ID: chat, Type: "private"})
	ann := telegramfake.User{ID: 501, Name: "Ann", Username: "ann"}

	entered, release := make(chan struct{}), make(chan struct{})
	deps := roundtable.Deps{Inspect: inspectPhoto,
		Prepare: func(ctx context.Context, data []byte) (roundtable.PreparedImage, error) {
			close(entered)
			<-release // a large HEIC, decoding
			return preparePhoto(ctx, data)
		}}
	mgr, ctx := seamManager(t, deps, roundtable.ManagerOptions{Owner: "p1"})
	a, err := telegram.New(telegram.Config{Token: token, APIURL: fake.URL()}, mgr,
		telegram.Options{Logger: slog.New(slog.DiscardHandler), PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.Run(ctx) }()

	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, image.NewRGBA(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	fake.Send(token, telegramfake.In{Chat: chat, From: ann, Photo: photo.Bytes(), Caption: "a lantern"})
	<-entered // the session is preparing the photo
	fake.Send(token, telegramfake.In{Chat: chat, From: ann, Text: "/stop"})
	eventually.True(t, "the stop's acknowledgement", func() bool {
		for _, m := range fake.Messages(chat) {
			if strings.Contains(m.Text, "Stopping roundtable") {
				return true
			}
		}
		return false
	})
	close(release) // only now does the decode finish
	eventually.True(t, "the session's end", func() bool {
		for _, m := range fake.Messages(chat) {
			if strings.Contains(m.Text, "stopped") {
				return true
			}
		}
		return false
	})
}
