package telegram

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/internal/eventually"
)

const (
	mainToken = "111:main-secret-token"
	botName   = "tableround_bot"
	groupChat = int64(-1001)
	dmChat    = int64(501)
)

var (
	ann = telegramfake.User{ID: 501, Name: "Ann", Username: "ann"}
	bob = telegramfake.User{ID: 502, Name: "Bob", Username: "bob"}
)

// seats are the six test personas; names carry characters HTML must escape.
var seats = []bot.Persona{
	{ID: "craftsman", Name: "Bayar <elder>", Emoji: "✂️", Role: "craftsman"},
	{ID: "consumer_1", Name: "Aygul & co", Emoji: "🎒", Role: "consumer"},
	{ID: "manufacturer", Name: "Li Zhiqiang", Emoji: "🏭", Role: "manufacturer"},
	{ID: "consumer_2", Name: "Zhang Xiaoya", Emoji: "🧳", Role: "consumer"},
	{ID: "designer", Name: "Lin Siyu", Emoji: "🎨", Role: "designer"},
	{ID: "consumer_3", Name: "Wang Xiaomeng", Emoji: "📚", Role: "consumer"},
}

var moderator = bot.Persona{ID: "moderator", Name: "Moderator", Emoji: "🪑", Moderator: true}

type setup struct {
	// clock, when set, is the time of the fake and the adapter (a
	// manual clock the test moves on); else a clock 20 times the wall's.
	clock      bot.Clock
	fakeLimits telegramfake.Limits
	limits     *Limits
	personas   []string
	allowed    []int64
	webhook    bool
}

type harness struct {
	t     *testing.T
	fake  *telegramfake.Server
	a     *Adapter
	h     *testHandler
	clock bot.Clock
	stop  context.CancelFunc
	done  chan error
}

func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	var clock bot.Clock = &clock.Scaled{Factor: 20} // shared with the fake: a minute of flood limits in 3 s
	if s.clock != nil {
		clock = s.clock
	}
	fake := telegramfake.New(telegramfake.Options{Limits: s.fakeLimits, Now: clock.Now})
	fake.AddBot(mainToken, botName)
	fake.AddChat(telegramfake.Chat{ID: groupChat, Type: "supergroup", Title: "Makers"})
	fake.AddChat(telegramfake.Chat{ID: dmChat, Type: "private"})
	fake.SetMember(groupChat, ann.ID, "administrator")
	for i, tok := range s.personas {
		fake.AddBot(tok, fmt.Sprintf("persona%d_bot", i+1))
	}
	h := newTestHandler()
	cfg := Config{Token: mainToken, APIURL: fake.URL(), PersonaTokens: s.personas, AllowedChats: s.allowed}
	if s.webhook {
		cfg.WebhookURL, cfg.WebhookSecret = "https://example.test/tg", "s3cret"
	}
	level := slog.LevelError
	if testing.Verbose() {
		level = slog.LevelDebug
	}
	a, err := New(cfg, h, Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Clock: clock, PollTimeout: 2 * time.Second, Limits: s.limits})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hs := &harness{t: t, fake: fake, a: a, h: h, clock: clock, stop: cancel, done: make(chan error, 1)}
	go func() { hs.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-hs.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return")
		}
		h.wait()
		fake.Close()
	})
	hs.eventually("bot ready", func() bool { return fake.Calls("getUpdates") > 0 || (s.webhook && fake.Calls("setWebhook") > 0) })
	return hs
}

// eventually polls cond until it holds or a deadline passes.
func (hs *harness) eventually(what string, cond func() bool) {
	hs.t.Helper()
	eventually.Within(hs.t, 30*time.Second, what, cond)
}

func (hs *harness) say(chat int64, from telegramfake.User, text string) int {
	id, _ := hs.fake.Send(mainToken, telegramfake.In{Chat: chat, From: from, Text: text})
	return id
}

// botMessages are the chat's messages sent by any bot.
func (hs *harness) botMessages(chat int64) []telegramfake.Message {
	var out []telegramfake.Message
	for _, m := range hs.fake.Messages(chat) {
		if m.Token != "" {
			out = append(out, m)
		}
	}
	return out
}

// findText returns the bot messages whose text contains s.
func (hs *harness) findText(chat int64, s string) []telegramfake.Message {
	var out []telegramfake.Message
	for _, m := range hs.botMessages(chat) {
		if strings.Contains(m.Text, s) || strings.Contains(m.Caption, s) {
			out = append(out, m)
		}
	}
	return out
}

// request is a Request as the test handler decided it, with the
// conversation it opened for a start.
type request struct {
	bot.Request
	Conv bot.Conversation
}

// testHandler plays the session manager: it decides a mention (a start
// when no script runs in the chat, else an interjection), records the
// decided requests and, on a start, opens the conversation and runs script
// (if set) in its own goroutine like the manager does.
type testHandler struct {
	mu      sync.Mutex
	reqs    []request
	script  func(ctx context.Context, req request)
	running map[string]bool
	wg      sync.WaitGroup
	reply   func(req bot.Request) bot.Reply
	fail    func(req bot.Request) error // the handler's error, when set
}

func newTestHandler() *testHandler { return &testHandler{running: map[string]bool{}} }

func (h *testHandler) Handle(ctx context.Context, req bot.Request) (bot.Reply, error) {
	h.mu.Lock()
	if req.Command == bot.CmdMention {
		req.Command = bot.CmdStart
		if h.running[req.Channel] {
			req.Command = bot.CmdSay
		}
	}
	script, reply, fail := h.script, h.reply, h.fail
	rec := request{Request: req}
	if req.Command == bot.CmdStart && req.Open != nil {
		conv, _, err := req.Open(ctx)
		if err != nil {
			h.mu.Unlock()
			return bot.Reply{}, err
		}
		rec.Conv = conv
	}
	run := req.Command == bot.CmdStart && script != nil
	if run {
		h.wg.Add(1) // before the request is visible, so wait() never misses it
		h.running[req.Channel] = true
	}
	h.reqs = append(h.reqs, rec)
	h.mu.Unlock()
	if run {
		go func() {
			defer h.wg.Done()
			script(context.Background(), rec)
			h.mu.Lock()
			delete(h.running, req.Channel)
			h.mu.Unlock()
		}()
	}
	var err error
	if fail != nil {
		err = fail(req)
	}
	if reply != nil {
		return reply(req), err
	}
	return bot.Reply{Text: "ok: " + string(req.Command)}, err
}

func (h *testHandler) wait() { h.wg.Wait() }

func (h *testHandler) setScript(f func(ctx context.Context, req request)) {
	h.mu.Lock()
	h.script = f
	h.mu.Unlock()
}

func (h *testHandler) requests(cmd bot.Command) []request {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []request
	for _, r := range h.reqs {
		if cmd == "" || r.Command == cmd {
			out = append(out, r)
		}
	}
	return out
}

// speech is a persona's scripted text: it grows word by word to its final.
func speech(p bot.Persona, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s speaking <b>not bold</b> & @everyone @ann_x. ", p.ID)
	for i := range n {
		fmt.Fprintf(&b, "word%d ", i)
	}
	return strings.TrimSpace(b.String())
}

// stream plays text into a stream in steps, then closes it with the final.
func stream(ctx context.Context, t *testing.T, st bot.Stream, final string, steps int) {
	words := strings.Fields(final)
	for i := 1; i <= steps; i++ {
		st.Update(strings.Join(words[:len(words)*i/steps], " "))
	}
	if err := st.Close(ctx, final); err != nil {
		t.Errorf("close: %v", err)
	}
}
