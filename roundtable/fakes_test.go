package roundtable

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/store"
)

// memStore is an in-memory Store for the domain's tests; the real stores
// run the contract suite in store/storetest.
type memStore struct {
	mu       sync.Mutex
	sessions map[string]store.Session
	events   map[string][]store.Event
	cps      map[string]store.Checkpoint
	blobs    map[string][]byte
	mems     map[string][]store.Memory
	failAt   int // Append fails from this event count on (0: never)
}

func newMemStore() *memStore {
	return &memStore{sessions: map[string]store.Session{}, events: map[string][]store.Event{},
		cps: map[string]store.Checkpoint{}, blobs: map[string][]byte{}, mems: map[string][]store.Memory{}}
}

func (m *memStore) CreateSession(_ context.Context, s store.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = s
	return nil
}
func (m *memStore) UpdateSession(_ context.Context, s store.Session) error {
	return m.CreateSession(nil, s)
}
func (m *memStore) GetSession(_ context.Context, id string) (store.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return s, store.ErrNotFound
	}
	return s, nil
}
func (m *memStore) ListSessions(context.Context, string, int) ([]store.Session, error) {
	return nil, nil
}
func (m *memStore) Append(_ context.Context, id string, ev store.Event) (store.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev.Seq = int64(len(m.events[id]) + 1)
	m.events[id] = append(m.events[id], ev)
	return ev, nil
}
func (m *memStore) Events(_ context.Context, id string) ([]store.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events[id]), nil
}
func (m *memStore) SaveCheckpoint(_ context.Context, id string, cp store.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cps[id] = cp
	return nil
}
func (m *memStore) LoadCheckpoint(_ context.Context, id string) (store.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.cps[id]
	if !ok {
		return cp, store.ErrNotFound
	}
	return cp, nil
}
func (m *memStore) PutBlob(_ context.Context, id, name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs[id+"/"+name] = data
	return nil
}
func (m *memStore) GetBlob(_ context.Context, id, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[id+"/"+name]
	if !ok {
		return nil, store.ErrNotFound
	}
	return b, nil
}
func (m *memStore) Memories(_ context.Context, ch string, n int) ([]store.Memory, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.mems[ch]), nil
}
func (m *memStore) Remember(_ context.Context, ch string, mem store.Memory) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mems[ch] = append([]store.Memory{mem}, m.mems[ch]...)
	return nil
}

func (m *memStore) eventsOf(id, typ string) []store.Event {
	evs, _ := m.Events(nil, id)
	var out []store.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// post is one message the fake conversation received.
type post struct {
	p       bot.Post
	updates int
	final   string
	closed  bool
}

// fakeConv records every message and answers the people's turn.
type fakeConv struct {
	mu     sync.Mutex
	posts  []*post
	answer bot.Answer
	images []bot.Attachment
	onOpen func(p bot.Post)
}

type fakeStream struct {
	c *fakeConv
	p *post
}

func (c *fakeConv) Open(_ context.Context, p bot.Post) (bot.Stream, error) {
	if c.onOpen != nil {
		c.onOpen(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rec := &post{p: p}
	c.posts = append(c.posts, rec)
	return &fakeStream{c: c, p: rec}, nil
}
func (s *fakeStream) Update(string) {
	s.c.mu.Lock()
	s.p.updates++
	s.c.mu.Unlock()
}
func (s *fakeStream) Close(_ context.Context, final string) error {
	s.c.mu.Lock()
	s.p.final, s.p.closed = final, true
	s.c.mu.Unlock()
	return nil
}
func (c *fakeConv) SendImage(_ context.Context, _ bot.Persona, img bot.Attachment, _ string) error {
	c.mu.Lock()
	c.images = append(c.images, img)
	c.mu.Unlock()
	return nil
}
func (c *fakeConv) AskKeywords(_ context.Context, q bot.Question) (bot.Answer, error) {
	if c.answer.Action == "" {
		return bot.Answer{Action: bot.ActionTimeout, Keywords: q.Keywords}, nil
	}
	return c.answer, nil
}

func (c *fakeConv) speeches() []*post {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*post
	for _, p := range c.posts {
		if p.p.Kind == bot.KindSpeech {
			out = append(out, p)
		}
	}
	return out
}

// scripted is a ChatModel answering with the demo script, recording every
// request, failing where told, and holding the calls of concurrent stages
// until all six are open (a barrier: it proves they run concurrently).
type scripted struct {
	mu   sync.Mutex
	reqs []providers.Request
	fail func(req providers.Request) error
	// hold returns a channel a call waits on before it answers, or nil;
	// the call gives up when its context ends, as a real model's would.
	hold     func(req providers.Request) <-chan struct{}
	barrier  map[string]int // stage → calls to wait for
	arrived  map[string]int
	released map[string]chan struct{}
	override func(req providers.Request) (string, bool)
	cached   int // input tokens of each call reported as read from the prompt cache
}

func newScripted() *scripted {
	return &scripted{barrier: map[string]int{}, arrived: map[string]int{}, released: map[string]chan struct{}{}}
}

func stageOf(req providers.Request) string { return strings.SplitN(req.Tag, "/", 2)[0] }

func (m *scripted) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	stage := stageOf(req)
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	n, wait := m.barrier[stage]
	var ch chan struct{}
	if wait {
		if m.released[stage] == nil {
			m.released[stage] = make(chan struct{})
		}
		ch = m.released[stage]
		m.arrived[stage]++
		if m.arrived[stage] == n {
			close(ch)
		}
	}
	m.mu.Unlock()
	if wait {
		select {
		case <-ch:
		case <-ctx.Done():
			return providers.Response{}, ctx.Err()
		case <-time.After(20 * time.Second): // a safety net, not a timing assertion
			return providers.Response{}, fmt.Errorf("barrier of %s: only %d of %d calls were open at once", stage, m.arrivedAt(stage), n)
		}
	}
	if m.hold != nil {
		if ch := m.hold(req); ch != nil {
			select {
			case <-ch:
			case <-ctx.Done():
				return providers.Response{Provider: "fake"}, ctx.Err()
			}
		}
	}
	if m.fail != nil {
		if err := m.fail(req); err != nil {
			if err.Error() == "hold until cancelled" {
				<-ctx.Done()
				return providers.Response{Provider: "fake"}, ctx.Err()
			}
			return providers.Response{Provider: "fake"}, err
		}
	}
	text := demo.Reply(req)
	if m.override != nil {
		if t, ok := m.override(req); ok {
			text = t
		}
	}
	for _, w := range strings.SplitAfter(text, " ") {
		if err := fn(providers.Delta{Text: w}); err != nil {
			return providers.Response{}, err
		}
	}
	return providers.Response{Text: text, Model: "fake", Provider: "fake",
		Usage: providers.Usage{InputTokens: 10, CachedInputTokens: m.cached, OutputTokens: 5, Calls: 1}}, nil
}

func (m *scripted) arrivedAt(stage string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.arrived[stage]
}

func (m *scripted) requests(stage string) []providers.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []providers.Request
	for _, r := range m.reqs {
		if stageOf(r) == stage {
			out = append(out, r)
		}
	}
	return out
}

// userText is every user message of a request (the shared context and
// the task), joined.
func userText(r providers.Request) string {
	var parts []string
	for _, m := range r.Messages {
		if m.Role == providers.RoleUser {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n\n")
}

// fakeImages is an ImageGenerator that records its prompt.
type fakeImages struct {
	mu     sync.Mutex
	prompt string
}

func (f *fakeImages) Generate(_ context.Context, req providers.ImageRequest) ([]providers.GeneratedImage, providers.Usage, error) {
	f.mu.Lock()
	f.prompt = req.Prompt
	f.mu.Unlock()
	return []providers.GeneratedImage{{MIME: "image/png", Data: []byte("\x89PNG fake")}}, providers.Usage{Calls: 1}, nil
}
