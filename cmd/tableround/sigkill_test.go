//go:build slow

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/store/redis"
	"github.com/tableround/tableround/transcript"
)

// The SIGKILL tests run a real `tableround serve` process (this test binary
// re-executed), kill it with SIGKILL in the middle of a session while its
// chat is behind (the platform fakes keep the platforms' real limits, so a
// backlog builds up), start a new process on the same store, and check that
// once the session has ended the chat shows every speech of the log exactly
// once and no placeholder or cut-off text is left. On the embedded store
// and on Redis, on Telegram (a private chat, and a group on the embedded
// store) and on Discord.

// sessionLog is what a killed and resumed session logged: the speeches of
// the stages whose text a chat shows as it was spoken (keywords, votes and
// design cards are rendered from their structure instead).
type sessionLog struct{ speeches []string }

var proseStages = map[string]bool{
	roundtable.StageIntro: true, roundtable.StagePhoto: true, roundtable.StageDiscussion: true,
	roundtable.StageSwitch: true, roundtable.StageWorkshop: true,
}

// plain is a chat message's or a speech's text without markup (Telegram's
// HTML, Discord's markdown) and with its whitespace collapsed.
func plain(s string) string {
	s = html.UnescapeString(tags.ReplaceAllString(s, ""))
	s = strings.NewReplacer("*", "", "_", "", "`", "", "~", "", "|", "", "\\", "").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

var tags = regexp.MustCompile(`<[^>]*>`)

// chatMessage is a bot message as a chat fake shows it now.
type chatMessage struct {
	id, text string
}

type sigkillCase struct {
	store    string // "embedded" or "redis"
	redisDB  int
	platform string // "telegram", "telegram-group" or "discord"
}

func TestSIGKILLChatEqualsLog(t *testing.T) {
	t.Parallel()
	for _, c := range []sigkillCase{
		{"embedded", 0, "telegram"},
		{"redis", 7, "telegram"},
		{"embedded", 0, "discord"},
		{"redis", 8, "discord"},
		{"embedded", 0, "telegram-group"},
	} {
		t.Run(c.platform+"/"+c.store, func(t *testing.T) {
			t.Parallel()
			sigkillAndResume(t, c)
		})
	}
}

func sigkillAndResume(t *testing.T, c sigkillCase) {
	dataDir := t.TempDir()
	env := []string{"AI_PROVIDER=demo", "DEMO_PACE=realistic", "MAX_TURNS=1", "LEASE_TTL=3s",
		"DATA_DIR=" + dataDir, "USER_INPUT_TIMEOUT=2s"}
	var redisURL string
	if c.store == "redis" {
		redisURL = needRedis(t).URL(c.redisDB)
		env = append(env, "REDIS_URL="+redisURL)
	}

	var (
		start    func()
		messages func() []chatMessage
		channel  func() string // the session's channel, once it exists
	)
	switch c.platform {
	case "telegram", "telegram-group":
		token := "555:sigkill-token"
		fake := telegramfake.New(telegramfake.Options{Limits: telegramfake.TelegramLimits()})
		t.Cleanup(fake.Close)
		fake.AddBot(token, "tableround_bot")
		// A private chat streams sequential speech as drafts. The group
		// case runs on the embedded store only, with a speech edited in
		// place and each concurrent stage one merged message; both stores
		// see a group in TestCrashResumeTelegramChatEqualsLog. A group
		// takes about 20 writes a minute, so a session of six seats lasts
		// over seven minutes: this one seats three (a pack cut from
		// papercut), which halves the sequential speeches and keeps the
		// case within the other cases' time.
		chat := int64(800000) + time.Now().UnixNano()%100000 // fresh on every run against the same Redis
		ann := telegramfake.User{ID: chat, Name: "Ann", Username: "ann"}
		env = append(env, "TELEGRAM_TOKEN="+token, "TELEGRAM_API_URL="+fake.URL())
		if c.platform == "telegram-group" {
			chat = -chat
			fake.AddChat(telegramfake.Chat{ID: chat, Type: "supergroup", Title: "Makers"})
			env = append(env, "PERSONA_PACK="+threeSeatPack(t))
		} else {
			fake.AddChat(telegramfake.Chat{ID: chat, Type: "private"})
		}
		start = func() { fake.Send(token, telegramfake.In{Chat: chat, From: ann, Text: "/roundtable a paper-cut kite"}) }
		messages = func() []chatMessage {
			var out []chatMessage
			for _, m := range fake.Messages(chat) {
				if m.Token != "" {
					out = append(out, chatMessage{fmt.Sprint(m.ID), m.Text})
				}
			}
			return out
		}
		channel = func() string { return fmt.Sprintf("telegram:%d", chat) }
	case "discord":
		fake := discordfake.New(discordfake.Options{Token: "tok", Limits: discordfake.DiscordLimits()})
		t.Cleanup(fake.Close)
		guild := fake.NewID()
		parent := fake.AddChannel(discordfake.Channel{GuildID: guild, Type: 0}).ID
		env = append(env, "DISCORD_TOKEN=tok", "DISCORD_API_URL="+fake.URL(), "DISCORD_GUILD_ID="+guild)
		start = func() {
			// A mention sent before the gateway is up is lost, as on Discord.
			eventually.True(t, "the gateway connection", func() bool { return fake.Connected() > 0 })
			if _, err := fake.PostUser(parent, discordfake.User{ID: fake.NewID(), Name: "ada"}, "a paper-cut kite", true); err != nil {
				t.Fatal(err)
			}
		}
		thread := func() string {
			for _, ch := range fake.Channels() {
				if ch.ParentID == parent {
					return ch.ID
				}
			}
			return ""
		}
		messages = func() []chatMessage {
			var out []chatMessage
			for _, m := range fake.Messages(thread()) {
				if m.AuthorID == fake.Bot().ID || m.WebhookID != "" {
					text := m.Content
					for _, e := range m.Embeds {
						if d, ok := e["description"].(string); ok {
							text += "\n" + d
						}
					}
					out = append(out, chatMessage{m.ID, text})
				}
			}
			return out
		}
		channel = func() string {
			if th := thread(); th != "" {
				return "discord:" + th
			}
			return ""
		}
	}

	// Process 1: start a session and kill it once the table is well under
	// way (a dozen messages on screen, more owed).
	p1 := startReplica(t, "a", env)
	start()
	eventually.Within(t, 3*time.Minute, "a dozen messages in the chat", func() bool { return len(messages()) >= 12 })
	if err := p1.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	err := <-p1.exited
	p1.exited <- err // for the cleanup
	before := len(messages())
	t.Logf("killed with %d messages on screen", before)

	// Process 2, same store: it resumes the session (the embedded store at
	// start-up; Redis once the dead process's lease has expired) and the
	// session runs to its end.
	p2 := startReplica(t, "b", env)
	progress := time.Now()
	eventually.Within(t, 8*time.Minute, "the closing message", func() bool {
		if time.Since(progress) > 30*time.Second {
			progress = time.Now()
			t.Logf("%d messages on screen", len(messages()))
		}
		for _, m := range messages() {
			if strings.Contains(plain(m.text), "That's the roundtable on") {
				return true
			}
		}
		return false
	})
	p2.terminate(t)

	log := readLog(t, c, dataDir, redisURL, channel())
	shown := messages()
	var dump strings.Builder
	for _, m := range shown {
		fmt.Fprintf(&dump, "%s %.100q\n", m.id, m.text)
	}
	// Six seats speak 24 prose speeches with MAX_TURNS=1, three seats 12.
	if least := map[bool]int{false: 15, true: 10}[c.platform == "telegram-group"]; len(log.speeches) < least {
		t.Fatalf("only %d prose speeches logged", len(log.speeches))
	}
	// Each speech is shown as often as it was logged (the demo model may
	// give two seats the same words), in full: a cut-off message would
	// not contain it.
	want := map[string]int{}
	for _, sp := range log.speeches {
		want[plain(sp)]++
	}
	for text, n := range want {
		got := 0
		for _, m := range shown {
			got += strings.Count(plain(m.text), text)
		}
		if got != n {
			t.Errorf("speech %.60q is shown %d times, logged %d times\n%s", text, got, n, dump.String())
		}
	}
	for _, m := range shown {
		if strings.TrimSpace(m.text) == "…" {
			t.Errorf("placeholder %s is left on screen\n%s", m.id, dump.String())
		}
	}
}

func readLog(t *testing.T, c sigkillCase, dataDir, redisURL, channel string) sessionLog {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	if c.store == "redis" {
		st, err = redis.Open(ctx, redisURL, redis.Options{})
	} else {
		st, err = bolt.Open(filepath.Join(dataDir, "tableround.db"), bolt.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.ListSessions(ctx, channel, 5)
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions in %s: %v %v", channel, list, err)
	}
	if list[0].Status != store.StatusFinished {
		t.Errorf("the session ended as %s: %s", list[0].Status, list[0].Error)
	}
	evs, err := st.Events(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var out sessionLog
	for _, e := range evs {
		if e.Type == transcript.EventSpeech && proseStages[e.Stage] {
			out.speeches = append(out.speeches, e.Text)
		}
	}
	return out
}

// threeSeatPack writes the papercut pack cut to three seats (a maker, a
// buyer and the designer, so the role switch still has roles to swap) and
// returns its path.
func threeSeatPack(t *testing.T) string {
	t.Helper()
	p, err := roundtable.LoadPack("papercut")
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{"craftsman": true, "consumer_1": true, "designer": true}
	var seats []roundtable.Seat
	roles := map[string]*roundtable.Role{}
	for _, st := range p.Seats {
		if keep[st.ID] {
			seats = append(seats, st)
			roles[st.Role] = p.Roles[st.Role]
		}
	}
	p.Seats, p.Roles, p.Name = seats, roles, "papercut3"
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "papercut3.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := roundtable.LoadPack(path); err != nil {
		t.Fatalf("the three-seat pack: %v", err)
	}
	return path
}
