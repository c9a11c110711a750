package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/bot/discord/discordfake"
)

// A process posts a persona's message through a webhook and dies with it
// half written; a new process reattaches to it by the ID the first one
// reported and completes it in place, through the same webhook: no
// message is added. The half-written text is the message's first write
// (its placeholder) and nothing is left to send when the first process
// dies, so no late write of the dead process can land after the new
// one's: the outcome does not depend on timing.
func TestReattachCompletesCutOffMessages(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, discordfake.Limits{}, &fastLimits)
	ctx1, kill := context.WithCancel(context.Background())
	defer kill()
	conv1, err := hs.a.Resume(ctx1, chanKey(hs.channel))
	if err != nil {
		t.Fatal(err)
	}
	created := make(chan string, 4)
	speaker := bot.Persona{ID: "craftsman", Name: "Bayar", Emoji: "✂️"}
	post := bot.Post{From: speaker, Kind: bot.KindSpeech, Placeholder: "Half a sentence, and then",
		Created: func(id string) { created <- id }}
	if _, err := conv1.Open(ctx1, post); err != nil {
		t.Fatal(err)
	}
	var got []string
	select {
	case id := <-created:
		got = append(got, id)
	case <-time.After(time.Minute):
		t.Fatal("the message ID was never reported")
	}
	if ms := hs.fake.Messages(hs.channel); len(ms) != 1 || !strings.Contains(ms[0].Content, "Half a sentence") {
		t.Fatalf("the half-written speech is not what Discord holds: %+v", ms)
	}
	if len(created) != 0 {
		t.Fatalf("Created told more: %v", <-created)
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
