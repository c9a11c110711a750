package roundtable

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

func testConfig() Config {
	return Config{MaxTurns: 2, MaxKeywords: 10, VotingThreshold: 0.6, UserInputTimeout: time.Minute,
		Language: "en", Pack: "papercut", ContextBudget: 100000}
}

func testDeps(m providers.ChatModel, st *memStore) Deps {
	return Deps{Chat: m, Store: st, ModelName: "fake",
		Prepare: func(_ context.Context, data []byte) (PreparedImage, error) {
			return PreparedImage{MIME: "image/png", Data: data, Width: 4, Height: 3}, nil
		}}
}

func runSession(t *testing.T, cfg Config, deps Deps, conv bot.Conversation, in Start) (*Session, error) {
	t.Helper()
	if in.Channel == "" {
		in.Channel = "test:1"
	}
	s, err := New(context.Background(), cfg, deps, conv, in)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, s.Run(context.Background())
}

func TestFullSession(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	m := newScripted()
	for _, stage := range []string{StageIntro, StagePhoto, StageKeywords, StageVoting, StageCards} {
		m.barrier[stage] = 6 // answered only when all six calls are open at once
	}
	imgs := &fakeImages{}
	deps := testDeps(m, st)
	deps.Images = imgs
	conv := &fakeConv{answer: bot.Answer{Action: bot.ActionEdit, Keywords: []string{"red paper", "tassel"}, By: "ann"}}
	s, err := runSession(t, testConfig(), deps, conv, Start{Topic: "a paper-cut bookmark", Image: []byte("photo-bytes")})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	id := s.ID()

	// Every stage happened, in order.
	var stages []string
	for _, e := range st.eventsOf(id, transcript.EventStage) {
		stages = append(stages, e.Stage)
	}
	want := []string{StageOpening, StageIntro, StagePhoto, StageDiscussion, StageKeywords, StageKJ, StageVoting,
		StagePeople, StageSwitch, StageWorkshop, StageCards, StageFinal, StageClosing}
	if strings.Join(stages, ",") != strings.Join(want, ",") {
		t.Fatalf("stages:\n got %v\nwant %v", stages, want)
	}
	if got := st.eventsOf(id, transcript.EventFailure); len(got) != 0 {
		t.Fatalf("unexpected failures: %+v", got)
	}
	meta, _ := st.GetSession(nil, id)
	if meta.Status != store.StatusFinished {
		t.Fatalf("status = %s", meta.Status)
	}

	// The photo was described once, with its real MIME type, and its
	// description reached the stories.
	vision := m.requests("vision")
	if len(vision) != 1 || vision[0].Messages[1].Images[0].MIME != "image/png" || string(vision[0].Messages[1].Images[0].Data) != "photo-bytes" {
		t.Fatalf("vision calls = %+v", vision)
	}
	for _, r := range m.requests(StagePhoto) {
		if !strings.Contains(userText(r), "cloud motifs") {
			t.Fatalf("story prompt lacks the photo description:\n%s", userText(r))
		}
	}

	// Speaker k of the discussion sees the words of every earlier speaker.
	disc := m.requests(StageDiscussion)
	if len(disc) != 12 {
		t.Fatalf("discussion calls = %d, want 12", len(disc))
	}
	speeches := st.eventsOf(id, transcript.EventSpeech)
	var said []string
	for _, e := range speeches {
		if e.Stage == StageDiscussion {
			said = append(said, e.Text)
		}
	}
	for k := 1; k < len(disc); k++ {
		for j := 0; j < k; j++ {
			if !strings.Contains(userText(disc[k]), said[j]) {
				t.Fatalf("discussion speaker %d does not see speaker %d's words %q", k, j, said[j])
			}
		}
	}

	// Workshop prompts carry the scenario and the people's keywords.
	for _, r := range m.requests(StageWorkshop) {
		u := userText(r)
		if !strings.Contains(u, "design workshop for a paper-cut") || !strings.Contains(u, "red paper, tassel") {
			t.Fatalf("workshop prompt lacks scenario or keywords:\n%s", u)
		}
	}

	// Role switch: every seat got another role; makers and buyers swapped.
	for _, e := range st.eventsOf(id, transcript.EventRoleSwitch) {
		var rs transcript.RoleSwitch
		_ = json.Unmarshal(e.Data, &rs)
		if rs.From == rs.To || (rs.From == "consumer") == (rs.To == "consumer") {
			t.Fatalf("role switch %s: %s → %s", e.Seat, rs.From, rs.To)
		}
	}

	// The image prompt is built from the final keywords and the cards.
	if imgs.prompt == "" {
		t.Fatal("no image was generated")
	}
	for _, want := range []string{"red paper", "tassel", "laminated rice paper", "symmetric cloud motif"} {
		if !strings.Contains(imgs.prompt, want) {
			t.Fatalf("image prompt lacks %q:\n%s", want, imgs.prompt)
		}
	}
	if len(conv.images) != 1 || len(st.eventsOf(id, transcript.EventImage)) != 1 {
		t.Fatalf("images posted %d, events %d", len(conv.images), len(st.eventsOf(id, transcript.EventImage)))
	}
	// Every message was closed with its final text; speeches streamed.
	for _, p := range conv.speeches() {
		if !p.closed || p.final == "" {
			t.Fatalf("speech of %s not delivered", p.p.From.Name)
		}
	}
	// The channel remembers the session.
	if mems, _ := st.Memories(nil, "test:1", 5); len(mems) != 1 || mems[0].Topic != "a paper-cut bookmark" {
		t.Fatalf("memories = %+v", mems)
	}
}

func TestFailedSeatIsMarkedAndSessionGoesOn(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	m := newScripted()
	m.fail = func(r providers.Request) error {
		if strings.HasPrefix(r.Tag, StageDiscussion+"/manufacturer/") {
			return &providers.Error{Provider: "fake", Kind: providers.KindServer, Status: 500, Message: "upstream exploded"}
		}
		return nil
	}
	conv := &fakeConv{}
	s, err := runSession(t, testConfig(), testDeps(m, st), conv, Start{Topic: "lanterns"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	fails := st.eventsOf(s.ID(), transcript.EventFailure)
	if len(fails) != 2 {
		t.Fatalf("failures = %d, want 2 (one per round)", len(fails))
	}
	for _, e := range fails { // the export carries the event: the kind and its sentence, not the provider's text
		var f transcript.Failure
		if err := json.Unmarshal(e.Data, &f); err != nil || f.Kind != "server" || f.Cause != providers.UserMessage(&providers.Error{Kind: providers.KindServer}) ||
			strings.Contains(string(e.Data)+e.Text, "upstream exploded") {
			t.Fatalf("failure event %s %q (%v)", e.Data, e.Text, err)
		}
	}
	for _, e := range st.eventsOf(s.ID(), transcript.EventSpeech) {
		if strings.Contains(e.Text, "upstream exploded") || strings.Contains(e.Text, "could not speak") {
			t.Fatalf("error text passed off as speech: %q", e.Text)
		}
	}
	for _, p := range conv.speeches() {
		if p.p.From.ID == "manufacturer" && strings.Contains(p.final, "upstream") {
			t.Fatalf("raw cause shown to people: %q", p.final)
		}
		if p.p.From.ID == "manufacturer" && strings.Contains(p.final, "could not speak") && !strings.Contains(p.final, s.ID()) {
			t.Fatalf("the failure line must carry the session ID: %q", p.final)
		}
	}
	if meta, _ := st.GetSession(nil, s.ID()); meta.Status != store.StatusFinished {
		t.Fatalf("status = %s", meta.Status)
	}
}

func TestInterjectionReachesNextSpeaker(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	m := newScripted()
	conv := &fakeConv{}
	var s *Session
	asked := false
	conv.onOpen = func(p bot.Post) {
		if p.Kind == bot.KindBanner && strings.Contains(p.Placeholder, "Discussion") && !asked {
			asked = true
			s.Interject("mei", "what about a version for children?")
		}
	}
	s, _ = New(context.Background(), testConfig(), testDeps(m, st), conv, Start{Channel: "c", Topic: "kites"})
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	disc := m.requests(StageDiscussion)
	if !strings.Contains(userText(disc[0]), "mei") || !strings.Contains(userText(disc[0]), "Answer them") {
		t.Fatalf("first discussion speaker did not get the interjection:\n%s", userText(disc[0]))
	}
	if strings.Contains(userText(disc[1]), "Answer them") {
		t.Fatal("the interjection was answered twice")
	}
	if !strings.Contains(userText(disc[1]), "version for children") {
		t.Fatal("later speakers should still see the interjection in the transcript")
	}
	if len(st.eventsOf(s.ID(), transcript.EventInterjection)) != 1 {
		t.Fatal("interjection not logged")
	}
}

func TestCancelSavesAndResumeContinues(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	m := newScripted()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	m.fail = func(r providers.Request) error {
		if stageOf(r) == StageDiscussion {
			calls++
			if calls == 3 { // Ctrl-C while the third speaker talks
				cancel()
				return ctx.Err()
			}
		}
		return nil
	}
	conv := &fakeConv{}
	s, _ := New(context.Background(), testConfig(), testDeps(m, st), conv, Start{Channel: "c", Topic: "fans"})
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	meta, _ := st.GetSession(nil, s.ID())
	if meta.Status != store.StatusInterrupted {
		t.Fatalf("status = %s", meta.Status)
	}
	before := len(st.eventsOf(s.ID(), transcript.EventSpeech))

	m.fail = nil
	r, err := Resume(context.Background(), testConfig(), testDeps(m, st), conv, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var disc []store.Event
	for _, e := range st.eventsOf(s.ID(), transcript.EventSpeech) {
		if e.Stage == StageDiscussion {
			disc = append(disc, e)
		}
	}
	if len(disc) != 12 {
		t.Fatalf("discussion speeches after resume = %d, want 12 (none repeated, none lost); before = %d", len(disc), before)
	}
	if meta, _ := st.GetSession(nil, s.ID()); meta.Status != store.StatusFinished {
		t.Fatalf("status after resume = %s", meta.Status)
	}
}

func TestContextBudgetSummarises(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	m := newScripted()
	cfg := testConfig()
	cfg.ContextBudget = 200
	s, err := runSession(t, cfg, testDeps(m, st), &fakeConv{}, Start{Topic: "paper fans"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.requests("summary")) == 0 {
		t.Fatal("no summary call although the transcript exceeded the budget")
	}
	last := m.requests(StageWorkshop)
	if u := userText(last[len(last)-1]); !strings.Contains(u, "Summary of the earlier discussion") {
		t.Fatalf("late prompt lacks the summary:\n%s", u)
	}
	_ = s
}

func TestStopEndsForGood(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	m := newScripted()
	var s *Session
	m.fail = func(r providers.Request) error {
		if stageOf(r) == StageKeywords {
			s.Stop()
		}
		return nil
	}
	s, _ = New(context.Background(), testConfig(), testDeps(m, st), &fakeConv{}, Start{Channel: "c", Topic: "t"})
	if err := s.Run(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Run = %v", err)
	}
	if meta, _ := st.GetSession(nil, s.ID()); meta.Status != store.StatusStopped {
		t.Fatalf("status = %s", meta.Status)
	}
	if _, err := Resume(context.Background(), testConfig(), testDeps(m, st), &fakeConv{}, s.ID()); err == nil {
		t.Fatal("a stopped session must not resume")
	}
}

// A session that reads most of its prompts from the provider's cache is
// not cut off as if every cached token were new: the guardrail counts
// cached input at providers.CachedWeight.
func TestTokenCapWeighsCachedInput(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	cfg := testConfig()
	cfg.MaxSessionTokens = 600
	llm := newScripted()
	llm.cached = 8 // of 10 input tokens per call: 2 + 8/4 + 5 = 9 counted, not 15
	s, err := runSession(t, cfg, testDeps(llm, st), &fakeConv{}, Start{Topic: "t"})
	if err != nil {
		t.Fatalf("Run = %v, want the session to finish under the cap", err)
	}
	meta, _ := st.GetSession(nil, s.ID())
	if full := meta.InputTokens + meta.OutputTokens; full <= cfg.MaxSessionTokens {
		t.Fatalf("the session used %d tokens in full: the test needs more than the cap (%d) to mean anything",
			full, cfg.MaxSessionTokens)
	}
}

func TestTokenCapEndsPolitely(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	cfg := testConfig()
	cfg.MaxSessionTokens = 100 // 15 tokens per fake call
	s, err := runSession(t, cfg, testDeps(newScripted(), st), &fakeConv{}, Start{Topic: "t"})
	var ce *CapError
	if !errors.As(err, &ce) {
		t.Fatalf("Run = %v, want a CapError", err)
	}
	meta, _ := st.GetSession(nil, s.ID())
	if meta.Status != store.StatusStopped || !strings.Contains(meta.Error, "token limit") {
		t.Fatalf("meta = %+v", meta)
	}
	notes := st.eventsOf(s.ID(), transcript.EventNote)
	if !strings.Contains(notes[len(notes)-1].Text, s.ID()) {
		t.Fatal("the cap message must carry the session ID")
	}
}
