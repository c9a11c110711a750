package roundtable

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
	"github.com/tableround/tableround/transcript"
)

type managerEnv struct {
	store *bolt.Store
	clock *clock.Manual // shared by the store and the manager
	model *scripted
}

func newManagerEnv(t *testing.T) *managerEnv {
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	// Commits go at once: the gather window (2 ms on the wall clock after
	// each commit) is a throughput measure for many sessions, tested in
	// store/bolt, and made each of these sessions' hundreds of commits wait.
	st, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), bolt.Options{Clock: clk, GatherWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &managerEnv{store: st, clock: clk, model: newScripted()}
}

func (e *managerEnv) manager(owner string, resume Resumer, mods ...func(*ManagerOptions)) *Manager {
	deps := Deps{Chat: e.model, Now: e.clock.Now}
	o := ManagerOptions{Owner: owner, UserSessionLimit: 2, LeaseTTL: 30 * time.Second, ScanEvery: time.Hour,
		ShutdownGrace: 100 * time.Millisecond,
		Render: func(w io.Writer, format string, s store.Session, evs []store.Event, _ func(string) ([]byte, error)) error {
			_, err := io.WriteString(w, format+":"+s.ID+":"+s.Topic)
			return err
		}}
	if resume != nil {
		o.Resumers = map[string]Resumer{"test": resume}
	}
	for _, mod := range mods {
		mod(&o)
	}
	return NewManager(testConfig(), deps, e.store, o)
}

func serve(t *testing.T, m *Manager) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

func status(st *bolt.Store, id string) store.Status {
	s, _ := st.GetSession(context.Background(), id)
	return s.Status
}

var ann = bot.User{ID: "u1", Name: "Ann"}

func start(t *testing.T, m *Manager, channel, topic string, u bot.User, conv bot.Conversation) string {
	t.Helper()
	r, err := m.Handle(context.Background(), bot.Request{Command: bot.CmdStart, Channel: channel, User: u, Text: topic, Open: bot.OpenIn(conv, channel)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "Starting roundtable") {
		t.Fatalf("start reply: %q", r.Text)
	}
	return strings.TrimSuffix(strings.Fields(r.Text)[3], "…")
}

func TestManagerRunsOneSessionPerChannel(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	release := make(chan struct{})
	e.model.fail = func(r providers.Request) error {
		if stageOf(r) == StageDiscussion {
			<-release
		}
		return nil
	}
	m := e.manager("p1", nil)
	defer serve(t, m)()
	id := start(t, m, "test:1", "kites", ann, &fakeConv{})
	r, _ := m.Handle(context.Background(), bot.Request{Command: bot.CmdStart, Channel: "test:1", User: ann, Text: "again", Open: bot.OpenIn(&fakeConv{}, "test:1")})
	if !strings.Contains(r.Text, "already running") || !strings.Contains(r.Text, id) {
		t.Fatalf("second start: %q", r.Text)
	}
	// Status while running; a stranger may not stop it; an interjection lands.
	r, _ = m.Handle(context.Background(), bot.Request{Command: bot.CmdStatus, Channel: "test:1"})
	if !strings.Contains(r.Text, id) || !strings.Contains(r.Text, "stage") {
		t.Fatalf("status: %q", r.Text)
	}
	r, _ = m.Handle(context.Background(), bot.Request{Command: bot.CmdStop, Channel: "test:1", User: bot.User{ID: "u2", Name: "Bo"}})
	if !strings.Contains(r.Text, "Only Ann") {
		t.Fatalf("stranger stop: %q", r.Text)
	}
	r, _ = m.Handle(context.Background(), bot.Request{Command: bot.CmdSay, Channel: "test:1", User: bot.User{ID: "u2", Name: "Bo"}, Text: "make it blue"})
	if !strings.Contains(r.Text, "Passed") {
		t.Fatalf("say: %q", r.Text)
	}
	close(release)
	eventually.True(t, "the session to finish", func() bool { return status(e.store, id) == store.StatusFinished })
	eventually.True(t, "the channel to be free", func() bool { return m.Running() == 0 })
	// The lease was released: a new session may start at once.
	id2 := start(t, m, "test:1", "fans", bot.User{ID: "u2", Name: "Bo"}, &fakeConv{})
	eventually.True(t, "the second session", func() bool { return status(e.store, id2) == store.StatusFinished })
	evs, _ := e.store.Events(context.Background(), id)
	found := false
	for _, ev := range evs {
		found = found || (ev.Type == transcript.EventInterjection && ev.Text == "make it blue")
	}
	if !found {
		t.Fatal("the interjection was not logged")
	}
}

func TestManagerStopExportForget(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	block := make(chan struct{})
	e.model.fail = func(r providers.Request) error {
		if stageOf(r) == StageKeywords {
			select {
			case <-block:
			case <-time.After(20 * time.Second):
			}
		}
		return nil
	}
	m := e.manager("p1", nil)
	defer serve(t, m)()
	id := start(t, m, "test:2", "lanterns", ann, &fakeConv{})
	eventually.True(t, "keywords stage", func() bool { return m.live("test:2") != nil && m.live("test:2").sess.Status().Stage == StageKeywords })
	r, _ := m.Handle(context.Background(), bot.Request{Command: bot.CmdStop, Channel: "test:2", User: ann})
	if !strings.Contains(r.Text, "Stopping") {
		t.Fatalf("stop: %q", r.Text)
	}
	close(block)
	eventually.True(t, "stopped", func() bool { return status(e.store, id) == store.StatusStopped })

	r, _ = m.Handle(context.Background(), bot.Request{Command: bot.CmdExport, Channel: "test:2", Options: map[string]string{"format": "json"}})
	if r.File == nil || string(r.File.Data) != "json:"+id+":lanterns" || r.File.Name != "tableround-"+id+".json" {
		t.Fatalf("export: %+v", r)
	}
	r, _ = m.Handle(context.Background(), bot.Request{Command: bot.CmdExport, Channel: "test:other", Text: id})
	if r.File != nil || !strings.Contains(r.Text, "can't find") {
		t.Fatalf("another channel exported it: %+v", r)
	}
	r, _ = m.Handle(context.Background(), bot.Request{Command: bot.CmdForget, Channel: "test:2", User: ann})
	if !strings.Contains(r.Text, "Only an admin") {
		t.Fatalf("forget by non-admin: %q", r.Text)
	}
	r, _ = m.Handle(context.Background(), bot.Request{Command: bot.CmdForget, Channel: "test:2", User: bot.User{ID: "a", Admin: true}})
	if !strings.Contains(r.Text, "no longer remembers") {
		t.Fatalf("forget: %q", r.Text)
	}
}

func TestManagerUserLimit(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	m := e.manager("p1", nil)
	defer serve(t, m)()
	for i, ch := range []string{"test:a", "test:b"} {
		id := start(t, m, ch, "t", ann, &fakeConv{})
		eventually.True(t, "session", func() bool { return status(e.store, id) == store.StatusFinished })
		_ = i
	}
	r, _ := m.Handle(context.Background(), bot.Request{Command: bot.CmdStart, Channel: "test:c", User: ann, Text: "t", Open: bot.OpenIn(&fakeConv{}, "test:c")})
	if !strings.Contains(r.Text, "limit") {
		t.Fatalf("third start within the hour: %q", r.Text)
	}
	e.clock.Advance(61 * time.Minute)
	start(t, m, "test:c", "t", ann, &fakeConv{})
}

// A process shutting down suspends its session; another process resumes it
// once the lease expires, and nothing said is repeated or lost.
func TestSuspendedSessionIsResumedByAnotherProcess(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	inDiscussion := make(chan struct{})
	var once sync.Once
	e.model.fail = func(r providers.Request) error {
		if strings.HasPrefix(r.Tag, StageDiscussion+"/manufacturer/") {
			once.Do(func() { close(inDiscussion) })
		}
		return nil
	}
	first := &fakeConv{}
	first.onOpen = func(p bot.Post) {}
	m1 := e.manager("p1", nil)
	stop1 := serve(t, m1)
	// The third discussion speaker is mid-speech when SIGTERM arrives.
	e.model.fail = func(r providers.Request) error {
		if strings.HasPrefix(r.Tag, StageDiscussion+"/manufacturer/") {
			once.Do(func() { close(inDiscussion) })
			return errHold
		}
		return nil
	}
	id := start(t, m1, "test:9", "umbrellas", ann, first)
	<-inDiscussion
	stop1() // SIGTERM: suspend
	if st := status(e.store, id); st != store.StatusRunning {
		t.Fatalf("a suspended session must stay running for takeover, got %s", st)
	}
	first.mu.Lock()
	for _, p := range first.posts { // an open stream's writer would wait for its Close forever
		if !p.closed {
			t.Errorf("the suspended session left its %v message open", p.p.Kind)
		}
	}
	first.mu.Unlock()
	e.model.fail = nil

	second := &fakeConv{}
	m2 := e.manager("p2", func(_ context.Context, ch string) (bot.Conversation, error) {
		if ch != "test:9" {
			t.Errorf("resumer asked for %s", ch)
		}
		return second, nil
	})
	stop2 := serve(t, m2)
	defer stop2()
	// Before the lease expires nobody takes it over; after, p2 does.
	e.clock.Advance(31 * time.Second)
	m2.resumeOrphans(context.Background(), &sync.WaitGroup{})
	eventually.True(t, "the resumed session to finish", func() bool { return status(e.store, id) == store.StatusFinished })

	evs, _ := e.store.Events(context.Background(), id)
	seen := map[string]int{}
	for _, ev := range evs {
		if ev.Type == transcript.EventSpeech && ev.Stage == StageDiscussion {
			var sp struct{ Round int }
			_ = jsonUnmarshal(ev.Data, &sp)
			seen[ev.Seat+"/"+string(rune('0'+sp.Round))]++
		}
	}
	if len(seen) != 12 {
		t.Fatalf("discussion speeches %d, want 12: %v", len(seen), seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s spoke %d times", k, n)
		}
	}
	resumedNote := false
	for _, p := range second.posts {
		resumedNote = resumedNote || strings.Contains(p.final, "Resuming")
	}
	if !resumedNote {
		t.Fatal("the resumed session did not say it was resuming")
	}
}

// On shutdown a session finishes the step it is in (within ShutdownGrace),
// checkpoints it and stays resumable; the resumed session goes on from the
// next step without asking the model for that speech again.
func TestShutdownFinishesTheCurrentStep(t *testing.T) {
	t.Parallel()
	e := newManagerEnv(t)
	inDiscussion, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	const tag = StageDiscussion + "/manufacturer/"
	e.model.fail = func(r providers.Request) error {
		if strings.HasPrefix(r.Tag, tag) {
			once.Do(func() { close(inDiscussion) })
			<-release
		}
		return nil
	}
	m1 := e.manager("p1", nil)
	m1.o.ShutdownGrace = time.Hour
	stop1 := serve(t, m1)
	id := start(t, m1, "test:7", "fans", ann, &fakeConv{})
	<-inDiscussion
	stopped := make(chan struct{})
	go func() { stop1(); close(stopped) }() // SIGTERM while the speech is being generated
	eventually.True(t, "the session to be told to suspend", func() bool {
		l := m1.live("test:7")
		return l != nil && l.sess.isSuspended()
	})
	close(release)
	<-stopped
	if st := status(e.store, id); st != store.StatusRunning {
		t.Fatalf("a suspended session must stay running for takeover, got %s", st)
	}
	spoke := func() int {
		n := 0
		evs, _ := e.store.Events(context.Background(), id)
		for _, ev := range evs {
			if ev.Type == transcript.EventSpeech && ev.Seat == "manufacturer" && ev.Stage == StageDiscussion {
				n++
			}
		}
		return n
	}
	if n := spoke(); n != 1 {
		t.Fatalf("the speech in progress at shutdown was logged %d times, want 1 (finished, not interrupted)", n)
	}

	m2 := e.manager("p2", func(context.Context, string) (bot.Conversation, error) { return &fakeConv{}, nil })
	defer serve(t, m2)()
	e.clock.Advance(31 * time.Second)
	m2.resumeOrphans(context.Background(), &sync.WaitGroup{})
	eventually.True(t, "the resumed session to finish", func() bool { return status(e.store, id) == store.StatusFinished })
	calls := 0
	e.model.mu.Lock()
	for _, r := range e.model.reqs {
		if strings.HasPrefix(r.Tag, tag) {
			calls++
		}
	}
	e.model.mu.Unlock()
	if calls != 2 { // one per round: the speech finished at shutdown was not asked for again
		t.Fatalf("the model was asked %d times for the manufacturer's discussion speeches, want 2", calls)
	}
	if n := spoke(); n != 2 { // rounds 1 and 2
		t.Fatalf("manufacturer discussion speeches %d, want 2", n)
	}
}

// errHold makes the scripted model wait for its context to end.
var errHold = errors.New("hold until cancelled")

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// flakyLeases is the store with lease renewals failing as told.
type flakyLeases struct {
	*bolt.Store
	mu    sync.Mutex
	tries int
	fail  error // returned instead of renewing; nil renews
}

func (f *flakyLeases) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	f.mu.Lock()
	f.tries++
	err := f.fail
	f.mu.Unlock()
	if err != nil {
		return store.Lease{}, err
	}
	return f.Store.RenewLease(ctx, l, ttl)
}

func (f *flakyLeases) set(err error) (tries int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
	return f.tries
}

func (f *flakyLeases) triesSoFar() int { return f.set(f.fail) }

// A lease renewal that fails because the store is slow or away does not
// stop the session while its lease outlasts the next try; a lease another
// process took, or one about to expire, does.
func TestLeaseRenewalRidesOutAFlakyStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		err     error
		advance time.Duration // of the clock, once renewals fail
		suspend bool
	}{
		{"store unavailable", store.ErrUnavailable, 0, false},
		{"lease lost", store.ErrLeaseLost, 0, true},
		{"store unavailable, lease about to expire", store.ErrUnavailable, 25 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newManagerEnv(t)
			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			e.model.fail = func(r providers.Request) error {
				if strings.HasPrefix(r.Tag, StageDiscussion+"/manufacturer/") {
					once.Do(func() { close(held) })
					<-release
				}
				return nil
			}
			store := &flakyLeases{Store: e.store}
			m := NewManager(testConfig(), Deps{Chat: e.model, Now: e.clock.Now}, store,
				ManagerOptions{Owner: "p1", LeaseTTL: 30 * time.Millisecond, ScanEvery: time.Hour, ShutdownGrace: 100 * time.Millisecond})
			stop := serve(t, m)
			defer stop()
			defer close(release)
			start(t, m, "test:r", "kites", ann, &fakeConv{})
			<-held
			before := store.set(tc.err)
			if tc.advance > 0 { // once a renewal has failed: no renewal that worked comes after
				eventually.True(t, "a failed renewal", func() bool { return store.triesSoFar() > before })
				e.clock.Advance(tc.advance)
			}
			suspended := func() bool { l := m.live("test:r"); return l != nil && l.sess.isSuspended() }
			if tc.suspend {
				eventually.True(t, "the session to stop this copy", suspended)
				return
			}
			eventually.True(t, "three failed renewals", func() bool { return store.triesSoFar() >= before+3 })
			if suspended() {
				t.Fatalf("suspended after failed renewals (%v) while the lease was still valid", tc.err)
			}
			store.set(nil)
			after := store.triesSoFar()
			eventually.True(t, "a renewal after the store came back", func() bool { return store.triesSoFar() > after })
			if suspended() {
				t.Fatal("suspended once the store came back")
			}
		})
	}
}
