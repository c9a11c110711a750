//go:build slow

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/telegram"
	"github.com/tableround/tableround/bot/telegram/telegramfake"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/store/redis"
	"github.com/tableround/tableround/transcript"
)

// A Telegram session is killed (its HTTP calls and store writes stop
// landing at once, as with SIGKILL) with a backlog the chat had not shown
// and a speech half written; a new process with a new adapter resumes it
// from the store. Afterwards the chat equals the log: every speech shown
// once, no placeholder or cut-off text left, the old board marked as
// moved. On the embedded store and on Redis.
func TestCrashResumeTelegramChatEqualsLog(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) store.Store{
		"embedded": func(t *testing.T) store.Store {
			st, err := bolt.Open(filepath.Join(t.TempDir(), "tr.db"), bolt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		"redis": func(t *testing.T) store.Store {
			srv := needRedis(t)
			st, err := redis.Open(context.Background(), srv.URL(6), redis.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
	for name, open := range stores {
		for _, c := range crashCases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				st := open(t)
				t.Cleanup(func() { st.Close() })
				crashAndResume(t, st, c)
			})
		}
	}
}

// crashCase is where process 1 dies: at the first model call kill picks
// (which writes half a sentence and hangs, as every call it picks does),
// once logged speeches are in the log.
type crashCase struct {
	name   string
	kill   func(req providers.Request) bool
	logged int
}

var crashCases = []crashCase{
	{"sequential speech", func(req providers.Request) bool {
		return strings.HasPrefix(req.Tag, roundtable.StageDiscussion+"/manufacturer/")
	}, 0},
	// A group shows the introductions as one merged message. Two of them
	// finish and are logged before the kill; four are cut off: the
	// resumed session completes the old message in place (two speeches,
	// four "cut off" lines) and the step runs again in a new one.
	{"merged stage", func(req providers.Request) bool {
		return strings.HasPrefix(req.Tag, roundtable.StageIntro+"/") &&
			!strings.Contains(req.Tag, "/craftsman/") && !strings.Contains(req.Tag, "/consumer_1/")
	}, 2},
}

const crashToken = "777:crash-token"

func crashAndResume(t *testing.T, st store.Store, c crashCase) {
	clock := &telegramfake.ScaledClock{Factor: 50}
	fake := telegramfake.New(telegramfake.Options{Limits: telegramfake.TelegramLimits(), Now: clock.Now})
	t.Cleanup(fake.Close)
	fake.AddBot(crashToken, "tableround_bot")
	// A group: a private chat streams sequential speech as drafts, which
	// vanish with the process by themselves.
	chat := -(int64(900000) + time.Now().UnixNano()%100000) // fresh on every run against the same Redis
	fake.AddChat(telegramfake.Chat{ID: chat, Type: "supergroup", Title: "Makers"})

	// Process 1: a slow link (a backlog builds up), cut at the kill.
	var dead atomic.Bool
	slow := &cutTransport{dead: &dead, delay: 30 * time.Millisecond}
	a1, stop1 := startTelegram(t, fake, clock, &http.Client{Transport: slow})
	conv1, _ := a1.Resume(context.Background(), fmt.Sprintf("telegram:%d", chat))
	killed := make(chan struct{})
	model1 := &crashModel{kill: c.kill, killed: killed}
	cfg := roundtable.Config{MaxTurns: 1, MaxKeywords: 10, VotingThreshold: 0.6, UserInputTimeout: 2 * time.Second,
		Language: "en", Pack: "papercut", ContextBudget: 100000, DeliveryWindow: 3}
	mortal := &mortalStore{Store: st, dead: &dead}
	s1, err := roundtable.New(context.Background(), cfg, roundtable.Deps{Chat: model1, Store: mortal, ModelName: "demo"},
		conv1, roundtable.Start{Channel: fmt.Sprintf("telegram:%d", chat), Topic: "a paper-cut kite", StarterID: "1", StarterName: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	ctx1, kill := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { done1 <- s1.Run(ctx1) }()
	select {
	case <-killed:
	case err := <-done1:
		t.Fatalf("the session ended before the kill: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the kill point was never reached")
	}
	eventually.Within(t, time.Minute, "the half-written speech on screen", func() bool { return countBot(fake, chat, "Half a sentence") == 1 })
	eventually.Within(t, time.Minute, "the finished speeches logged", func() bool {
		evs, err := st.Events(context.Background(), s1.ID())
		n := 0
		for _, ev := range evs {
			if ev.Type == transcript.EventSpeech {
				n++
			}
		}
		return err == nil && n >= c.logged
	})
	dead.Store(true) // SIGKILL
	kill()
	<-done1
	stop1()

	// Process 2: a new adapter resumes the session from the store.
	a2, stop2 := startTelegram(t, fake, clock, nil)
	defer stop2()
	conv2, _ := a2.Resume(context.Background(), fmt.Sprintf("telegram:%d", chat))
	s2, err := roundtable.Resume(context.Background(), cfg, roundtable.Deps{Chat: &crashModel{}, Store: st, ModelName: "demo"}, conv2, s1.ID())
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if err := s2.Run(context.Background()); err != nil {
		t.Fatalf("resumed Run: %v", err)
	}

	evs, err := st.Events(context.Background(), s1.ID())
	if err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for _, m := range fake.Messages(chat) {
		if m.Token != "" {
			fmt.Fprintf(&dump, "%d %.80q\n", m.ID, m.Text)
		}
	}
	speeches := 0
	for _, ev := range evs {
		if ev.Type != transcript.EventSpeech || !strings.HasPrefix(ev.Text, "Speech ") {
			continue
		}
		speeches++
		marker, _, _ := strings.Cut(ev.Text, ":")
		if n := countBot(fake, chat, marker+":"); n != 1 {
			t.Errorf("%q is shown %d times\n%s", marker, n, dump.String())
		}
	}
	if speeches < 15 {
		t.Errorf("only %d speeches logged", speeches)
	}
	for _, m := range fake.Messages(chat) {
		if m.Token == "" {
			continue
		}
		if txt := strings.TrimSpace(m.Text); strings.HasSuffix(txt, "…") || strings.Contains(txt, "Half a sentence") {
			t.Errorf("message %d is left as %q\n%s", m.ID, txt, dump.String())
		}
	}
	if n := countBot(fake, chat, "This board has moved"); n != 1 {
		t.Errorf("%d old boards marked as moved\n%s", n, dump.String())
	}
}

func countBot(fake *telegramfake.Server, chat int64, substr string) int {
	n := 0
	for _, m := range fake.Messages(chat) {
		if m.Token != "" && strings.Contains(m.Text, substr) {
			n++
		}
	}
	return n
}

func startTelegram(t *testing.T, fake *telegramfake.Server, clock bot.Clock, hc *http.Client) (*telegram.Adapter, func()) {
	t.Helper()
	a, err := telegram.New(telegram.Config{Token: crashToken, APIURL: fake.URL()}, bot.HandlerFunc(
		func(context.Context, bot.Request) (bot.Reply, error) { return bot.Reply{}, nil }),
		telegram.Options{Clock: clock, HTTPClient: hc, PollTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return a, stop
}

// cutTransport is process 1's network: slow, and cut at the kill.
type cutTransport struct {
	dead  *atomic.Bool
	delay time.Duration
}

var errKilled = errors.New("the process was killed")

func (c *cutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/sendMessage") || strings.HasSuffix(req.URL.Path, "/editMessageText") {
		time.Sleep(c.delay) // a slow link (shapes the backlog; nothing is asserted on time)
	}
	if c.dead.Load() {
		// Nothing reaches Telegram. The body is read first and the call
		// answered, rather than failed mid-request: go-telegram/bot races
		// on a transport error (its form writer formats the *url.Error
		// the caller is redacting).
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
		return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"ok":false,"error_code":502,"description":"Bad Gateway: the process was killed"}`)),
			Request: req}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

// mortalStore is the store as process 1 sees it: nothing lands after the kill.
type mortalStore struct {
	store.Store
	dead *atomic.Bool
}

func (m *mortalStore) Append(ctx context.Context, id string, ev store.Event) (store.Event, error) {
	if m.dead.Load() {
		return ev, errKilled
	}
	return m.Store.Append(ctx, id, ev)
}

func (m *mortalStore) SaveCheckpoint(ctx context.Context, id string, cp store.Checkpoint) error {
	if m.dead.Load() {
		return errKilled
	}
	return m.Store.SaveCheckpoint(ctx, id, cp)
}

func (m *mortalStore) UpdateSession(ctx context.Context, s store.Session) error {
	if m.dead.Load() {
		return errKilled
	}
	return m.Store.UpdateSession(ctx, s)
}

// crashModel is the demo model with a unique text for every plain speech
// (so a speech shown twice is told from two alike); the call picked by
// kill writes half a sentence, signals killed and hangs.
type crashModel struct {
	kill   func(req providers.Request) bool
	killed chan struct{}
	once   sync.Once
}

var crashSpeech atomic.Int64

func (m *crashModel) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	if m.kill != nil && m.kill(req) {
		_ = fn(providers.Delta{Text: "Half a sentence, and then"})
		m.once.Do(func() { close(m.killed) })
		<-ctx.Done()
		return providers.Response{Provider: "demo"}, ctx.Err()
	}
	stage, _, _ := strings.Cut(req.Tag, "/")
	switch stage {
	case roundtable.StageIntro, roundtable.StageDiscussion, roundtable.StageSwitch, roundtable.StageWorkshop:
		text := fmt.Sprintf("Speech %d (%s): a few words on the kite, and a few more.", crashSpeech.Add(1), req.Tag)
		for _, w := range strings.SplitAfter(text, " ") {
			if err := fn(providers.Delta{Text: w}); err != nil {
				return providers.Response{}, err
			}
		}
		return providers.Response{Text: text, Provider: "demo", Model: "demo", Usage: providers.Usage{Calls: 1}}, nil
	}
	return demo.New(demo.Options{}).Stream(ctx, req, fn)
}
