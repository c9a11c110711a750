package roundtable

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// meetModel holds every call of the listed stages until one call of each
// of them is open at the same time: calls that never overlap never meet.
type meetModel struct {
	*scripted
	stages []string

	mu     sync.Mutex
	opened map[string]int
	met    chan struct{}
}

func newMeetModel(m *scripted, stages ...string) *meetModel {
	return &meetModel{scripted: m, stages: stages, opened: map[string]int{}, met: make(chan struct{})}
}

func (m *meetModel) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	stage := stageOf(req)
	held := false
	m.mu.Lock()
	for _, s := range m.stages {
		if s == stage {
			held = true
			m.opened[stage]++
		}
	}
	all := true
	for _, s := range m.stages {
		all = all && m.opened[s] > 0
	}
	if held && all {
		select {
		case <-m.met:
		default:
			close(m.met)
		}
	}
	m.mu.Unlock()
	if held {
		select {
		case <-m.met:
		case <-ctx.Done():
			return providers.Response{}, ctx.Err()
		case <-time.After(20 * time.Second): // a safety net, not a timing assertion
			return providers.Response{Provider: "fake"}, fmt.Errorf("%s: the calls of %v never overlapped", stage, m.stages)
		}
	}
	return m.scripted.Stream(ctx, req, fn)
}

// The vision call runs alongside the introductions (each waits until the
// other is open), its description reaches the stories and not the
// introductions, and the shared context stays append-only.
func TestVisionAlongsideIntroductions(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	m := newMeetModel(newScripted(), "vision", StageIntro)
	conv := &fakeConv{}
	s, err := runSession(t, testConfig(), testDeps(m, st), conv, Start{Topic: "a paper-cut bookmark", Image: []byte("photo-bytes")})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	id := s.ID()
	if got := st.eventsOf(id, transcript.EventFailure); len(got) != 0 {
		t.Fatalf("%d failures, the first in %s: %s", len(got), got[0].Stage, got[0].Text)
	}
	if meta, _ := st.GetSession(t.Context(), id); meta.Status != store.StatusFinished {
		t.Fatalf("status %s (%s)", meta.Status, meta.Error)
	}
	if n := len(m.requests("vision")); n != 1 {
		t.Fatalf("%d vision calls, want 1", n)
	}
	intros, stories := m.requests(StageIntro), m.requests(StagePhoto)
	if len(intros) != 6 || len(stories) != 6 {
		t.Fatalf("%d introductions and %d stories, want 6 and 6", len(intros), len(stories))
	}
	for _, r := range intros {
		if strings.Contains(userText(r), "cloud motifs") {
			t.Fatalf("an introduction saw the photo's description:\n%s", userText(r))
		}
		// Append-only: the introductions' shared context is a prefix of
		// the stories' (which carry the description and then the turns).
		if ctx := r.Messages[1].Content; !strings.HasPrefix(stories[0].Messages[1].Content, ctx) {
			t.Fatalf("the stories' context does not extend the introductions':\n%q\n%q", ctx, stories[0].Messages[1].Content)
		}
	}
	for _, r := range stories {
		if !strings.Contains(r.Messages[1].Content, "cloud motifs") {
			t.Fatalf("a story prompt lacks the photo's description:\n%s", r.Messages[1].Content)
		}
	}

	// In the chat and the log the description still belongs to the
	// stories stage: after its banner, before the first story.
	evs, _ := st.Events(t.Context(), id)
	banner, photo, story := -1, -1, -1
	for i, e := range evs {
		switch {
		case e.Type == transcript.EventStage && e.Stage == StagePhoto:
			banner = i
		case e.Type == transcript.EventPhoto:
			photo = i
		case e.Type == transcript.EventSpeech && e.Stage == StagePhoto && story < 0:
			story = i
		}
	}
	if !(banner >= 0 && banner < photo && photo < story) {
		t.Fatalf("log order: banner %d, photo %d, first story %d", banner, photo, story)
	}
	var shown []string
	for _, p := range conv.posts {
		if p.p.Kind == bot.KindBanner || strings.HasPrefix(p.final, "📷") {
			shown = append(shown, firstLine(p.final))
		}
	}
	want := "── Stories from the photo ──"
	for i, line := range shown {
		if strings.HasPrefix(line, "📷") && (i == 0 || shown[i-1] != want) {
			t.Fatalf("the photo's message is not right under the stories banner: %q", shown)
		}
	}
}

// ctxChat is a ChatModel from a function that sees the call's context.
type ctxChat func(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error)

func (f ctxChat) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	return f(ctx, req, fn)
}

// A session stopped during the introductions ends the vision call it
// started and counts its usage: Run returns only once the call has ended.
// The test runs in a synctest bubble, so "Run is still waiting" is a fact
// (every goroutine is blocked), not a guess from the clock.
func TestVisionCallEndsWithTheSession(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		m := newScripted()
		m.fail = func(req providers.Request) error {
			if stageOf(req) == StageIntro {
				return fmt.Errorf("hold until cancelled")
			}
			return nil
		}
		visionOpen, release := make(chan struct{}), make(chan struct{})
		deps := testDeps(m, st)
		deps.Vision = ctxChat(func(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
			close(visionOpen)
			<-ctx.Done()
			<-release // a call that takes its time to end
			return providers.Response{Provider: "fake", Usage: providers.Usage{InputTokens: 700, Calls: 1}}, ctx.Err()
		})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s, err := New(ctx, testConfig(), deps, &fakeConv{}, Start{Channel: "test:1", Topic: "lanterns", Image: []byte("photo-bytes")})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		<-visionOpen // the bubble reports a deadlock if it never starts during the introductions
		s.Stop()
		cancel()
		synctest.Wait()
		var runErr error
		select {
		case runErr = <-done:
			t.Errorf("Run returned (%v) while its vision call was still running", runErr)
			close(release)
			synctest.Wait() // let the call end, so the bubble does too
			return
		default:
		}
		close(release)
		if runErr = <-done; runErr == nil {
			t.Fatal("Run: nil, want the stop")
		}
		ends := st.eventsOf(s.ID(), transcript.EventEnd)
		if len(ends) != 1 {
			t.Fatalf("%d end events", len(ends))
		}
		var end transcript.SessionEnd
		if err := json.Unmarshal(ends[0].Data, &end); err != nil || end.InputTokens < 700 {
			t.Fatalf("the end record misses the vision call's usage: %+v (%v)", end, err)
		}
	})
}
