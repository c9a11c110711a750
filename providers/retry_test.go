package providers_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/openai"
	"github.com/tableround/tableround/providers/providertest"
)

// sleeper is a clock.Clock that records the delays asked of it and never
// waits (a retry test checks the delays, not the waiting).
type sleeper struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleeper) Now() time.Time { return clock.Epoch() }

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays = append(s.delays, d)
	return ctx.Err()
}

func client(t *testing.T, fake *providertest.OpenAI) *openai.Client {
	t.Helper()
	cfg := openai.OpenRouter().Config("key-123456")
	cfg.BaseURL = fake.BaseURL()
	c, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var req = providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "hi"}}}

func TestRetry(t *testing.T) {
	tests := []struct {
		name        string
		replies     []providertest.Reply
		wantErr     providers.Kind
		wantCalls   int
		wantDelays  []time.Duration // exact, when the server gave a hint
		wantText    string
		wantResets  int
		regenerated bool
	}{
		{name: "429 honours Retry-After", replies: []providertest.Reply{
			{Status: 429, Header: map[string]string{"Retry-After": "9"}, Body: "{}"}, providertest.TextReply("fine")},
			wantCalls: 2, wantDelays: []time.Duration{9 * time.Second}, wantText: "fine"},
		{name: "500 then success", replies: []providertest.Reply{{Status: 500, Body: "x"}, providertest.TextReply("ok now")},
			wantCalls: 2, wantText: "ok now"},
		{name: "401 is not retried", replies: []providertest.Reply{{Status: 401, Body: "{}"}},
			wantCalls: 1, wantErr: providers.KindAuth},
		{name: "gives up after MaxAttempts", replies: []providertest.Reply{{Status: 503}, {Status: 503}, {Status: 503}, providertest.TextReply("late")},
			wantCalls: 3, wantErr: providers.KindServer},
		{name: "cut after visible text regenerates", replies: []providertest.Reply{
			{Text: "first words and more", CutAfter: 2}, providertest.TextReply("second try")},
			wantCalls: 2, wantText: "second try", wantResets: 1, regenerated: true},
		{name: "malformed before text is silent", replies: []providertest.Reply{
			{Before: []string{"data: {oops"}}, providertest.TextReply("clean")},
			wantCalls: 2, wantText: "clean"},
		{name: "empty retried once only", replies: []providertest.Reply{
			{Reasoning: "r", FinishReason: "length"}, {Reasoning: "r", FinishReason: "length"}, providertest.TextReply("never")},
			wantCalls: 2, wantErr: providers.KindEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOpenAI(t, tc.replies...)
			var s sleeper
			r := providers.NewRetry(client(t, fake), providers.Policy{Clock: &s})
			var text string
			resets := 0
			resp, err := r.Stream(context.Background(), req, func(d providers.Delta) error {
				if d.Reset {
					resets++
					text = ""
				}
				text += d.Text
				return nil
			})
			if got := len(fake.Requests()); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			if k := providers.KindOf(err); k != tc.wantErr {
				t.Fatalf("kind = %v (%v), want %v", k, err, tc.wantErr)
			}
			if len(s.delays) != tc.wantCalls-1 {
				t.Errorf("delays %v", s.delays)
			}
			for i, d := range tc.wantDelays {
				if s.delays[i] != d {
					t.Errorf("delay %d = %v, want %v", i, s.delays[i], d)
				}
			}
			if err == nil && (text != tc.wantText || resp.Text != tc.wantText || resets != tc.wantResets || resp.Regenerated != tc.regenerated) {
				t.Errorf("text %q resp %q resets %d regenerated %v", text, resp.Text, resets, resp.Regenerated)
			}
		})
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	p := providers.Policy{BaseDelay: time.Second, MaxDelay: 5 * time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 10: 5 * time.Second} {
		if got := p.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
	fake := providertest.NewOpenAI(t, providertest.Reply{Status: 502}, providertest.Reply{Status: 502})
	var s sleeper
	r := providers.NewRetry(client(t, fake), providers.Policy{BaseDelay: time.Second, MaxDelay: 5 * time.Second, Clock: &s})
	_, _ = r.Stream(context.Background(), req, func(providers.Delta) error { return nil })
	for i, d := range s.delays {
		full := p.Backoff(i + 1)
		if d < full/2 || d > full {
			t.Errorf("delay %d = %v outside [%v, %v]", i, d, full/2, full)
		}
	}
}

func TestBreakerAndFallback(t *testing.T) {
	primary := providertest.NewOpenAI(t)
	primary.RespondWith(func(providertest.Request) providertest.Reply { return providertest.Reply{Status: 503, Body: "down"} })
	backup := providertest.NewOpenAI(t)
	backup.RespondWith(func(providertest.Request) providertest.Reply { return providertest.TextReply("backup speaks") })

	clk := clock.NewManual(time.Unix(1000, 0))
	br := providers.NewBreaker("openrouter", 3, time.Minute, clk)
	var s sleeper
	pol := providers.Policy{MaxAttempts: 2, Clock: &s}
	chain := providers.NewFallback(
		providers.NewRetry(br.Wrap(client(t, primary)), pol),
		providers.NewRetry(client(t, backup), pol),
	)
	ask := func() (providers.Response, error) {
		return chain.Stream(context.Background(), req, func(providers.Delta) error { return nil })
	}

	// Call 1: two failed attempts on the primary (breaker at 2), then backup.
	resp, err := ask()
	if err != nil || resp.Text != "backup speaks" {
		t.Fatalf("call 1: %q %v", resp.Text, err)
	}
	// Call 2: one more failure opens the breaker; the retry stops at once.
	if _, err := ask(); err != nil {
		t.Fatal(err)
	}
	if br.State() != providers.Open {
		t.Fatalf("state = %v", br.State())
	}
	calls := len(primary.Requests())
	if calls != 3 {
		t.Errorf("primary calls = %d, want 3", calls)
	}
	// Call 3: the circuit is open, the primary is not called at all.
	if _, err := ask(); err != nil {
		t.Fatal(err)
	}
	if len(primary.Requests()) != calls {
		t.Error("primary called while open")
	}
	// After the cool-down one probe goes through; it fails and reopens.
	clk.Advance(time.Minute)
	if br.State() != providers.HalfOpen {
		t.Fatalf("state = %v", br.State())
	}
	if _, err := ask(); err != nil {
		t.Fatal(err)
	}
	if len(primary.Requests()) != calls+1 || br.State() != providers.Open {
		t.Errorf("probe: calls %d state %v", len(primary.Requests()), br.State())
	}
	// The primary recovers: the next probe closes the circuit.
	primary.RespondWith(func(providertest.Request) providertest.Reply { return providertest.TextReply("primary again") })
	clk.Advance(time.Minute)
	resp, err = ask()
	if err != nil || resp.Text != "primary again" || br.State() != providers.Closed {
		t.Errorf("recovery: %q %v %v", resp.Text, err, br.State())
	}
}

func TestBreakerOpenError(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	br := providers.NewBreaker("gemini", 1, time.Minute, clk)
	if err := br.Allow(); err != nil {
		t.Fatal(err)
	}
	br.Record(&providers.Error{Kind: providers.KindTimeout})
	err := br.Allow()
	if providers.KindOf(err) != providers.KindCircuitOpen || !strings.Contains(err.Error(), "gemini") {
		t.Fatalf("err = %v", err)
	}
	// Non-retryable failures do not count.
	br2 := providers.NewBreaker("x", 1, time.Minute, clk)
	_ = br2.Allow()
	br2.Record(&providers.Error{Kind: providers.KindAuth})
	if br2.State() != providers.Closed {
		t.Error("auth failure opened the breaker")
	}
}

func TestBreakerOnOpen(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	br := providers.NewBreaker("gemini", 2, time.Minute, clk)
	var opened []string
	br.OnOpen(func(p string) { opened = append(opened, p) })
	fail := &providers.Error{Kind: providers.KindServer}
	for range 2 {
		_ = br.Allow()
		br.Record(fail)
	}
	if len(opened) != 1 || opened[0] != "gemini" {
		t.Fatalf("after 2 failures opened = %v", opened)
	}
	clk.Advance(2 * time.Minute) // half-open: the probe fails, it opens again
	if err := br.Allow(); err != nil {
		t.Fatal(err)
	}
	br.Record(fail)
	if len(opened) != 2 {
		t.Errorf("a failed probe did not report a new opening: %v", opened)
	}
}

func TestWithModel(t *testing.T) {
	fake := providertest.NewOpenAI(t)
	m := providers.WithModel(client(t, fake), "seat/model:beta")
	if _, err := m.Stream(context.Background(), req, func(providers.Delta) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests()[0].JSON()["model"]; got != "seat/model:beta" {
		t.Errorf("model = %v", got)
	}
}
