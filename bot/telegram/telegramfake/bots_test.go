package telegramfake

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// updateIDs reads the update_id of each polled update.
func updateIDs(t *testing.T, raw []json.RawMessage) []int64 {
	t.Helper()
	var out []int64
	for _, r := range raw {
		var u struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(r, &u); err != nil {
			t.Fatal(err)
		}
		out = append(out, u.UpdateID)
	}
	return out
}

// waitAsleep waits until n polls sleep in the book (a deadline, not a
// pause, bounds it).
func waitAsleep(t *testing.T, b *botBook, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.sleepers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d polls asleep, want %d", b.sleepers(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPollWakesWhenAnUpdateIsQueued(t *testing.T) {
	b := newBotBook()
	b.add(tok, "poll_bot")
	got := make(chan []json.RawMessage, 1)
	go func() { got <- b.poll(context.Background(), tok, 0, time.Now().Add(time.Hour)) }()
	waitAsleep(t, b, 1)
	if id := b.enqueue(tok, map[string]any{"message": "hi"}); id != 1 {
		t.Errorf("update_id %d, want 1", id)
	}
	select {
	case raw := <-got:
		if ids := updateIDs(t, raw); len(ids) != 1 || ids[0] != 1 {
			t.Errorf("polled %v, want [1]", ids)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the poll did not wake for the update")
	}
}

func TestPollEndsWithItsRequest(t *testing.T) {
	b := newBotBook()
	b.add(tok, "poll_bot")
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan []json.RawMessage, 1)
	go func() { got <- b.poll(ctx, tok, 0, time.Now().Add(time.Hour)) }()
	waitAsleep(t, b, 1)
	cancel()
	select {
	case raw := <-got:
		if raw == nil || len(raw) != 0 {
			t.Errorf("polled %v, want []", raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the poll did not end with its request")
	}
}

func TestPollConfirmsBelowOffsetAndRedelivers(t *testing.T) {
	b := newBotBook()
	b.add(tok, "poll_bot")
	for range 3 {
		b.enqueue(tok, map[string]any{})
	}
	past := time.Now() // an expired deadline: the poll does not wait
	if ids := updateIDs(t, b.poll(context.Background(), tok, 0, past)); len(ids) != 3 {
		t.Fatalf("first poll %v, want 3 updates", ids)
	}
	if n := b.pending(tok); n != 0 {
		t.Errorf("pending %d after delivery, want 0", n)
	}
	// Offset 3 confirms 1 and 2; 3 was delivered but not confirmed, so it
	// comes again, as Telegram does.
	if ids := updateIDs(t, b.poll(context.Background(), tok, 3, past)); len(ids) != 1 || ids[0] != 3 {
		t.Errorf("poll at offset 3 = %v, want [3]", ids)
	}
	b.duplicate(tok, 3)
	if n := b.pending(tok); n != 1 {
		t.Errorf("pending %d after a duplicate, want 1", n)
	}
	if ids := updateIDs(t, b.poll(context.Background(), tok, 4, past)); len(ids) != 1 || ids[0] != 3 {
		t.Errorf("poll of the duplicate = %v, want [3]", ids)
	}
	if string(b.update(tok, 2)) == "" {
		t.Error("a confirmed update is forgotten by update")
	}
}

func TestWebhookTakesUpdatesOffTheQueue(t *testing.T) {
	b := newBotBook()
	b.add(tok, "hook_bot")
	b.setWebhook(tok, "http://127.0.0.1:1/hook", "s3cret") // nothing listens: the post fails quietly
	b.enqueue(tok, map[string]any{})
	if n := b.pending(tok); n != 0 {
		t.Errorf("pending %d with a webhook, want 0", n)
	}
	if raw := b.poll(context.Background(), tok, 0, time.Now().Add(time.Hour)); len(raw) != 0 {
		t.Errorf("poll with a webhook = %d updates, want none at once", len(raw))
	}
	if url, secret := b.webhook(tok); url == "" || secret != "s3cret" {
		t.Errorf("webhook = %q %q", url, secret)
	}
}
