package discord

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

// A process posts a persona's message through a webhook and dies with it
// half written; a new process reattaches to it by the ID the first one
// reported and completes it in place, through the same webhook: no
// message is added.
func TestReattachCompletesCutOffMessages(t *testing.T) {
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	ctx1, kill := context.WithCancel(context.Background())
	defer kill()
	conv1, err := hs.a.Resume(ctx1, chanKey(hs.channel))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ids []string
	speaker := bot.Persona{ID: "craftsman", Name: "Bayar", Emoji: "✂️"}
	post := bot.Post{From: speaker, Kind: bot.KindSpeech, Placeholder: "…",
		Created: func(id string) { mu.Lock(); ids = append(ids, id); mu.Unlock() }}
	st, err := conv1.Open(ctx1, post)
	if err != nil {
		t.Fatal(err)
	}
	st.Update("Half a sentence, and then")
	hs.findMessage(hs.channel, "the half-written speech", func(m discordfake.Message) bool {
		return strings.Contains(m.Content, "Half a sentence")
	})
	var got []string
	hs.eventually("the message ID reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		got = append([]string(nil), ids...)
		return len(got) > 0
	})
	if len(got) != 1 {
		t.Fatalf("Created told %v", got)
	}
	kill() // the first process is gone

	hs.restart() // a new process: only what Discord holds survives
	conv2, err := hs.a.Resume(context.Background(), chanKey(hs.channel))
	if err != nil {
		t.Fatal(err)
	}
	before := len(hs.fake.Messages(hs.channel))
	re, err := conv2.(bot.Reattacher).Reattach(context.Background(), bot.Post{From: speaker, Kind: bot.KindSpeech}, got)
	if err != nil {
		t.Fatal(err)
	}
	const final = "Half a sentence, and then the whole of it."
	if err := re.Close(context.Background(), final); err != nil {
		t.Fatal(err)
	}
	msgs := hs.fake.Messages(hs.channel)
	if len(msgs) != before {
		t.Errorf("reattaching added %d messages", len(msgs)-before)
	}
	for _, m := range msgs {
		if _, id, _ := strings.Cut(got[0], "/"); m.ID == id && !strings.Contains(m.Content, final) {
			t.Errorf("the cut-off message shows %q", m.Content)
		}
	}
	hs.noViolations()
}
