package telegram

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tableround/tableround/bot"
)

// A group's concurrent stage is one merged message. A process dies with
// one section final and two half written; each section was told the
// message's ID as a MergedRef. A new process takes the message over with
// all three sections (ReattachMerged) and completes it in place: no
// message is added and no partial text stays.
func TestReattachMergedCompletesTheStageMessage(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, setup{})
	ctx1, kill := context.WithCancel(context.Background())
	var mu sync.Mutex
	refs := map[string][]string{}
	created := func(seat string) func(string) {
		return func(ref string) { mu.Lock(); refs[seat] = append(refs[seat], ref); mu.Unlock() }
	}
	c1 := hs.a.conv(groupChat)
	var secs []bot.Stream
	for _, p := range seats[:3] {
		st, err := c1.Open(ctx1, bot.Post{From: p, Kind: bot.KindSpeech, Group: "introductions", Placeholder: "…", Created: created(p.ID)})
		if err != nil {
			t.Fatal(err)
		}
		secs = append(secs, st)
	}
	secs[1].Update("Half a sentence from Aygul, and then")
	secs[2].Update("Half a sentence from Li, and then")
	closed := make(chan error, 1)
	go func() { closed <- secs[0].Close(ctx1, "Bayar whole introduction.") }()
	hs.eventually("the merged message with its IDs", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(refs) == 3 && len(hs.findText(groupChat, "Half a sentence from Li")) == 1 &&
			len(hs.findText(groupChat, "Bayar whole")) == 1
	})
	kill() // the first process is gone
	<-closed
	msgs := hs.findText(groupChat, "Half a sentence from Li")
	var ids []string
	for _, p := range seats[:3] {
		r := refs[p.ID]
		id, ok := bot.CutMergedRef(r[0])
		if len(r) != 1 || !ok || id != fmt.Sprint(msgs[0].ID) {
			t.Fatalf("%s was told %v, want the merged message %d as a MergedRef", p.ID, r, msgs[0].ID)
		}
		ids = []string{id}
	}
	before := len(hs.botMessages(groupChat))

	c2 := hs.a.conv(groupChat)
	var posts []bot.Post
	for _, p := range seats[:3] {
		posts = append(posts, bot.Post{From: p, Kind: bot.KindSpeech, Group: "introductions", Created: created("again")})
	}
	re, err := c2.ReattachMerged(context.Background(), posts, ids)
	if err != nil {
		t.Fatal(err)
	}
	finals := []string{"Bayar whole introduction.", "Aygul whole introduction.", "…(cut off by a restart)"}
	errs := make(chan error, len(re))
	for i, st := range re {
		go func() { errs <- st.Close(context.Background(), finals[i]) }()
	}
	for range re {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(hs.botMessages(groupChat)); n != before {
		t.Errorf("taking the message over added %d messages", n-before)
	}
	got := hs.findText(groupChat, finals[1])
	if len(got) != 1 || fmt.Sprint(got[0].ID) != ids[0] {
		t.Fatalf("the merged message was not completed in place: %+v", got)
	}
	for i, f := range finals {
		if !strings.Contains(got[0].Text, f) || !strings.Contains(got[0].Text, seats[i].Emoji+" <b>") {
			t.Errorf("the completed message lacks %q or its header: %q", f, got[0].Text)
		}
	}
	if strings.Contains(got[0].Text, "Half a sentence") {
		t.Errorf("partial text is left: %q", got[0].Text)
	}
	if r := refs["again"]; len(r) != 0 {
		t.Errorf("the existing message was told again as new: %v", r)
	}
}
