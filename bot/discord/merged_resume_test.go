package discord

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

// Under a tight channel budget a concurrent stage is one merged message.
// A process dies with one section final and two half written; each
// section was told the message's reference as a MergedRef. A new process
// takes the message over with all three sections (ReattachMerged) and
// completes it in place: no message is added, no partial text stays.
func TestReattachMergedCompletesTheStageMessage(t *testing.T) {
	t.Parallel()
	lim := fastLimits
	lim.Channel = bot.Budget{Rate: 1000, Burst: 3}
	lim.GroupHorizon = time.Nanosecond // three free slots: too few for six, so the stage is merged
	hs := newHarness(t, discordfake.Limits{}, &lim)
	ctx1, kill := context.WithCancel(context.Background())
	defer kill()
	conv1, err := hs.a.Resume(ctx1, chanKey(hs.channel))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	refs := map[string][]string{}
	created := func(seat string) func(string) {
		return func(ref string) { mu.Lock(); refs[seat] = append(refs[seat], ref); mu.Unlock() }
	}
	var secs []bot.Stream
	for _, p := range testPersonas[:3] {
		st, err := conv1.Open(ctx1, bot.Post{From: p, Kind: bot.KindSpeech, Group: "intro", Placeholder: "…", Created: created(p.ID)})
		if err != nil {
			t.Fatal(err)
		}
		secs = append(secs, st)
	}
	secs[1].Update("Half a sentence from Aygul, and then")
	secs[2].Update("Half a sentence from Li, and then")
	closed := make(chan error, 1)
	go func() { closed <- secs[0].Close(ctx1, "Bayar's whole introduction.") }()
	msg := hs.findMessage(hs.channel, "the merged message", func(m discordfake.Message) bool {
		return strings.Contains(m.Content, "Half a sentence from Li") && strings.Contains(m.Content, "Bayar's whole")
	})
	hs.eventually("every section told the message's reference", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(refs) == 3
	})
	kill() // the first process is gone
	<-closed
	var ids []string
	for _, p := range testPersonas[:3] {
		r := refs[p.ID]
		ref, ok := bot.CutMergedRef(r[0])
		if _, id, _ := strings.Cut(ref, "/"); len(r) != 1 || !ok || id != msg.ID {
			t.Fatalf("%s was told %v, want the merged message %s as a MergedRef", p.ID, r, msg.ID)
		}
		ids = []string{ref}
	}

	hs.restart() // a new process: only what Discord holds survives
	conv2, err := hs.a.Resume(context.Background(), chanKey(hs.channel))
	if err != nil {
		t.Fatal(err)
	}
	before := len(hs.fake.Messages(hs.channel))
	var posts []bot.Post
	for _, p := range testPersonas[:3] {
		posts = append(posts, bot.Post{From: p, Kind: bot.KindSpeech, Group: "intro", Created: created("again")})
	}
	re, err := conv2.(bot.MergedReattacher).ReattachMerged(context.Background(), posts, ids)
	if err != nil {
		t.Fatal(err)
	}
	finals := []string{"Bayar's whole introduction.", "Aygul's whole introduction.", "…(cut off by a restart)"}
	errs := make(chan error, len(re))
	for i, st := range re {
		go func() { errs <- st.Close(context.Background(), finals[i]) }()
	}
	for range re {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	msgs := hs.fake.Messages(hs.channel)
	if len(msgs) != before {
		t.Errorf("taking the message over added %d messages", len(msgs)-before)
	}
	for _, m := range msgs {
		if m.ID != msg.ID {
			continue
		}
		for i, f := range finals {
			if !strings.Contains(m.Content, f) || !strings.Contains(m.Content, testPersonas[i].Name) {
				t.Errorf("the completed message lacks %q or its header: %q", f, m.Content)
			}
		}
		if strings.Contains(m.Content, "Half a sentence") {
			t.Errorf("partial text is left: %q", m.Content)
		}
	}
	if r := refs["again"]; len(r) != 0 {
		t.Errorf("the existing message was told again as new: %v", r)
	}
	hs.noViolations()
}
