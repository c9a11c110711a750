package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/internal/eventually"
)

const testToken = "test-token"

// fastLimits pace the adapter quickly for tests whose fake enforces no
// limits; the zero-429 test uses the real ones.
var fastLimits = Limits{Global: bot.Budget{Rate: 1000, Burst: 50}, Webhook: bot.Budget{Rate: 200, Burst: 5}, EditInterval: 5 * time.Millisecond,
	Channel: bot.Budget{Rate: 1000, Burst: 50}}

// fastTime is how much faster than the wall clock the adapter and the fake
// both run in newFastHarness: Discord's budgets (a minute per channel, 2 s
// per webhook, 1 s per message edit) are exercised in a tenth of the time.
const fastTime = 10

// testClock is a scaled clock shared by the fake and the adapter, except
// that waits of a minute or more (the people's turn) last until the test
// fires them, and that the test can move it forward (jump), waking the
// waits that end by then, so a 45 s retry_after passes at once.
type testClock struct {
	*clock.Scaled
	fire chan struct{}
	long atomic.Int32 // waits of a minute or more begun

	mu     sync.Mutex
	off    time.Duration
	jumped chan struct{} // closed and replaced by jump
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Scaled.Now().Add(c.off)
}

// jump moves the clock d forward.
func (c *testClock) jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
	if c.jumped != nil {
		close(c.jumped)
	}
	c.jumped = make(chan struct{})
}

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	if d >= time.Minute {
		c.long.Add(1)
		select {
		case <-c.fire:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	deadline := c.Now().Add(d)
	for {
		c.mu.Lock()
		if c.jumped == nil {
			c.jumped = make(chan struct{})
		}
		j := c.jumped
		c.mu.Unlock()
		left := deadline.Sub(c.Now())
		if left <= 0 {
			return nil
		}
		t := time.NewTimer(time.Duration(float64(left) / c.Factor))
		select {
		case <-t.C:
		case <-j:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// closing holds the adapters a test's cleanup stopped without waiting
// for Run to return: discordgo's Session.Close sleeps a second before it
// closes the gateway, and waiting for it would keep the test's parallel
// slot for that second. Their fakes close once Run has returned (a fake
// gone sooner would drop the gateway under a live session, which
// discordgo would then try to reconnect for ever). TestMain waits for
// them all and fails the package if a Run failed. A restart still waits
// (stop), so that no two adapters of one test ever serve at once.
var closing closers

type closers struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []string
}

// add waits in the background for the Run of test's adapter to return on
// done, then calls then.
func (c *closers) add(test string, done <-chan error, then func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer then()
		if err := <-done; err != nil {
			c.mu.Lock()
			c.errs = append(c.errs, fmt.Sprintf("%s: Run: %v", test, err))
			c.mu.Unlock()
		}
	}()
}

// wait waits for every adapter added and returns what their Runs failed with.
func (c *closers) wait() []string {
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.errs
}

type harness struct {
	t       *testing.T
	fake    *discordfake.Server
	a       *Adapter
	h       *testHandler
	clock   *testClock
	limits  *Limits
	guild   string
	channel string
	user    discordfake.User
	stop    func() // stops the running adapter and waits for its Run
	// release, the test's cleanup, stops the running adapter without
	// waiting and closes the fake once its Run has returned (closing).
	release func()
	// messageContent starts the adapter with DISCORD_MESSAGE_CONTENT.
	messageContent bool
}

// newHarness runs the adapter against the fake on the wall clock (tests
// that measure a hold with time.Now).
func newHarness(t *testing.T, fl discordfake.Limits, al *Limits) *harness {
	t.Helper()
	return newScaledHarness(t, fl, al, 1)
}

// newFastHarness runs the adapter and the fake fastTime times faster than
// the wall clock.
func newFastHarness(t *testing.T, fl discordfake.Limits, al *Limits) *harness {
	t.Helper()
	return newScaledHarness(t, fl, al, fastTime)
}

func newScaledHarness(t *testing.T, fl discordfake.Limits, al *Limits, factor float64, opts ...func(*harness)) *harness {
	t.Helper()
	tc := &testClock{Scaled: &clock.Scaled{Factor: factor}, fire: make(chan struct{})}
	fake := discordfake.New(discordfake.Options{Token: testToken, Limits: fl, Now: tc.Now})
	hs := &harness{t: t, fake: fake, h: newTestHandler(), clock: tc, limits: al, release: fake.Close}
	t.Cleanup(func() { hs.release() })
	hs.h.clock = tc
	hs.guild = fake.NewID()
	hs.channel = fake.AddChannel(discordfake.Channel{GuildID: hs.guild, Type: 0}).ID
	hs.user = discordfake.User{ID: fake.NewID(), Name: "ada"}
	for _, o := range opts {
		o(hs)
	}
	hs.start()
	return hs
}

// start runs a new adapter (a new process, as far as Discord can tell)
// against the fake and waits until it is connected.
func (hs *harness) start() {
	t := hs.t
	t.Helper()
	a, err := New(Config{Token: testToken, APIURL: hs.fake.URL(), GuildID: hs.guild, MessageContent: hs.messageContent}, hs.h,
		Options{Clock: hs.clock, Limits: hs.limits, PeopleTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs.a = a
	identifies := hs.fake.Identifies()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	hs.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	hs.release = func() {
		running := false
		once.Do(func() { cancel(); running = true })
		if running {
			closing.add(t.Name(), done, hs.fake.Close)
		} else {
			hs.fake.Close()
		}
	}
	// Ready is seen when the adapter knows who it is (a restarted adapter
	// finds the commands registered by the one before it).
	hs.eventually("gateway ready and commands registered", func() bool {
		return hs.fake.Identifies() > identifies && hs.fake.Connected() == 1 && hs.fake.Commands(hs.guild) != nil &&
			a.who.app() != ""
	})
}

// restart stops the adapter and starts a new one: nothing in memory
// survives, only what Discord holds.
func (hs *harness) restart() {
	hs.t.Helper()
	hs.stop()
	hs.eventually("gateway closed", func() bool { return hs.fake.Connected() == 0 })
	hs.start()
}

// eventually polls cond until it holds or a generous deadline passes.
func (hs *harness) eventually(what string, cond func() bool) {
	hs.t.Helper()
	eventually.Within(hs.t, 60*time.Second, what, cond)
}

// mention posts "@bot topic" and returns the script result of the session.
func (hs *harness) mention(topic string, files ...discordfake.File) (string, *scriptResult) {
	hs.t.Helper()
	id, err := hs.fake.PostUser(hs.channel, hs.user, topic, true, files...)
	if err != nil {
		hs.t.Fatal(err)
	}
	return id, hs.h.result(hs.t)
}

// findMessage waits for a message in channel that matches.
func (hs *harness) findMessage(channel, what string, match func(discordfake.Message) bool) discordfake.Message {
	hs.t.Helper()
	var found discordfake.Message
	hs.eventually(what, func() bool {
		for _, m := range hs.fake.Messages(channel) {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

func (hs *harness) interaction(token string, done func(discordfake.Interaction) bool) discordfake.Interaction {
	hs.t.Helper()
	var in discordfake.Interaction
	hs.eventually("interaction answered", func() bool {
		var ok bool
		in, ok = hs.fake.Interaction(token)
		return ok && done(in)
	})
	return in
}

func (hs *harness) noViolations() {
	hs.t.Helper()
	for _, v := range hs.fake.Violations() {
		hs.t.Errorf("fake: %s", v)
	}
}

// scriptResult is what a session script did.
type scriptResult struct {
	Req    bot.Request
	Finals map[string]string // persona ID → final text
	Answer bot.Answer
	Err    error
}

// testHandler plays the session manager: a mention in a place where it
// started a session is an interjection, else a start; a start opens its
// place and runs a script chosen by the topic's first word in its own
// goroutine.
type testHandler struct {
	mu      sync.Mutex
	places  map[string]bool // channels sessions were started in
	reqs    []bot.Request
	results chan *scriptResult
	file    *bot.Attachment
	images  []bot.Attachment // sent with an export
	// relay answers CmdAnswer (another replica's question); by default no
	// question is open anywhere else (bot.ErrNoQuestion), as the manager says.
	relay func(req bot.Request) error
	// clock paces the scripts' model (the harness's; the wall clock when nil).
	clock bot.Clock
}

func newTestHandler() *testHandler {
	return &testHandler{results: make(chan *scriptResult, 16), places: map[string]bool{}}
}

func (h *testHandler) Handle(ctx context.Context, req bot.Request) (bot.Reply, error) {
	h.mu.Lock()
	if req.Command == bot.CmdMention {
		switch {
		case h.places[req.Channel]:
			req.Command = bot.CmdSay
		case req.Unaddressed:
			h.reqs = append(h.reqs, req) // recorded as it came: nothing runs here
			h.mu.Unlock()
			return bot.Reply{}, nil
		default:
			req.Command = bot.CmdStart
		}
	}
	if req.Command != bot.CmdStart {
		h.reqs = append(h.reqs, req) // a start is recorded once its place is open
	}
	file, images, relay := h.file, h.images, h.relay
	h.mu.Unlock()
	switch req.Command {
	case bot.CmdAnswer:
		if relay == nil {
			return bot.Reply{}, bot.ErrNoQuestion
		}
		return bot.Reply{}, relay(req)
	case bot.CmdStart:
		c, ch, err := req.Open(ctx)
		if err != nil { // as the manager answers it
			var um interface{ UserMessage() string }
			if errors.As(err, &um) {
				return bot.Reply{Text: um.UserMessage()}, nil
			}
			return bot.Reply{}, err
		}
		h.mu.Lock()
		h.places[ch] = true
		req.Channel = ch // the session lives in the place it opened
		h.reqs = append(h.reqs, req)
		h.mu.Unlock()
		go func() { h.results <- runScript(context.WithoutCancel(ctx), req, c, clock.Or(h.clock)) }()
		return bot.Reply{Text: "Started: " + req.Text}, nil
	case bot.CmdExport:
		return bot.Reply{Text: "Here is the export.", File: file, Images: images}, nil
	case bot.CmdSay:
		return bot.Reply{}, nil
	}
	return bot.Reply{Text: string(req.Command) + " for " + req.Channel}, nil
}

func (h *testHandler) requests(cmd bot.Command) []bot.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []bot.Request
	for _, r := range h.reqs {
		if r.Command == cmd {
			out = append(out, r)
		}
	}
	return out
}

func (h *testHandler) result(t *testing.T) *scriptResult {
	t.Helper()
	select {
	case r := <-h.results:
		if r.Err != nil {
			t.Fatalf("script: %v", r.Err)
		}
		return r
	case <-time.After(90 * time.Second):
		t.Fatal("session script did not finish")
		return nil
	}
}

var testPersonas = []bot.Persona{
	{ID: "craftsman", Name: "Bayar", Emoji: "✂️", Role: "craftsman", Color: "#aa3300"},
	{ID: "consumer_1", Name: "Aygul", Emoji: "🎒", Role: "consumer"},
	{ID: "manufacturer", Name: "Li Zhiqiang", Emoji: "🏭", Role: "manufacturer"},
	{ID: "consumer_2", Name: "Zhang Xiaoya", Emoji: "🧳", Role: "consumer"},
	{ID: "designer", Name: "Clyde the Discord fan", Emoji: "🎨", Role: "designer"},
	{ID: "consumer_3", Name: "Wang Xiaomeng", Emoji: "📱", Role: "consumer"},
}

var moderator = bot.Persona{ID: "moderator", Name: "TableRound", Moderator: true}

func finalText(p bot.Persona) string {
	return fmt.Sprintf("%s speaking as the %s: %s", p.Name, p.Role, strings.Repeat("paper lanterns glow in spring. ", 8))
}

// stream updates a message many times quickly and closes it with final.
func stream(ctx context.Context, c bot.Conversation, p bot.Post, final string, steps int) error {
	st, err := c.Open(ctx, p)
	if err != nil {
		return err
	}
	for j := 1; j <= steps; j++ {
		st.Update(final[:len(final)*j/steps])
	}
	return st.Close(ctx, final)
}

func runScript(ctx context.Context, req bot.Request, c bot.Conversation, clk bot.Clock) *scriptResult {
	res := &scriptResult{Req: req, Finals: map[string]string{}}
	word, _, _ := strings.Cut(req.Text, " ")
	switch word {
	case "quick":
		res.Finals["craftsman"] = finalText(testPersonas[0])
		res.Err = stream(ctx, c, bot.Post{From: testPersonas[0]}, res.Finals["craftsman"], 5)
	case "split":
		res.Finals["designer"] = longSpeech()
		res.Err = stream(ctx, c, bot.Post{From: testPersonas[4]}, res.Finals["designer"], 12)
	case "ask":
		res.Answer, res.Err = c.AskKeywords(ctx, bot.Question{Text: "Keep these keywords?", Keywords: []string{"red", "lantern", "spring"}})
	case "session":
		res.Err = sessionScript(ctx, c, res, shapeOf(req.Text), clk)
	case "six", "storm", "table":
		res.Err = sixScript(ctx, c, res, word == "six")
	default:
		res.Err = errors.New("unknown script " + word)
	}
	return res
}

func sixScript(ctx context.Context, c bot.Conversation, res *scriptResult, ask bool) error {
	board := "**Roundtable**\nstage: introductions"
	res.Finals["moderator"] = board
	if err := stream(ctx, c, bot.Post{From: moderator, Kind: bot.KindBoard, Buttons: []bot.Button{{ID: "stop", Label: "⏹ Stop"}}}, board, 2); err != nil {
		return err
	}
	// The six speeches are all open before any of them is written, as in
	// a concurrent stage, so each is chosen a webhook while the others
	// stream.
	var wg sync.WaitGroup
	errs := make([]error, len(testPersonas))
	streams := make([]bot.Stream, len(testPersonas))
	for i, p := range testPersonas {
		res.Finals[p.ID] = finalText(p)
		if streams[i], errs[i] = c.Open(ctx, bot.Post{From: p, Group: "intro"}); errs[i] != nil {
			return errs[i]
		}
	}
	for i, p := range testPersonas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			final := finalText(p)
			for j := 1; j <= 40; j++ {
				streams[i].Update(final[:len(final)*j/40])
			}
			errs[i] = streams[i].Close(ctx, final)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	speech := "And a second thought from Bayar: " + strings.Repeat("cut the paper slowly. ", 10)
	res.Finals["craftsman"] = speech
	if err := stream(ctx, c, bot.Post{From: testPersonas[0]}, speech, 30); err != nil {
		return err
	}
	if ask {
		var err error
		res.Answer, err = c.AskKeywords(ctx, bot.Question{Text: "Keep these keywords?", Keywords: []string{"red", "lantern"}, Timeout: time.Hour})
		return err
	}
	return nil
}

func longSpeech() string {
	var b strings.Builder
	b.WriteString("Here is how I would lay out the pattern.\n\n")
	for i := 0; i < 18; i++ {
		fmt.Fprintf(&b, "Paragraph %d: the lantern's ribs carry a motif of plum blossoms, and each cut must leave a bridge of paper so the sheet holds together. ", i)
		b.WriteString("Keep the knife vertical.\n\n")
	}
	b.WriteString("```text\n")
	for i := 0; i < 70; i++ {
		fmt.Fprintf(&b, "row %02d: |  *  |  *  |  *  |  *  |  *  |\n", i)
	}
	b.WriteString("```\n\nThat is the whole plan.")
	return b.String()
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
