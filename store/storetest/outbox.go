package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// testOutbox: the outbox records a session writes next to its events
// (some from the writers' goroutines, as platform messages are created)
// come back in the order they were appended, with their payloads intact,
// interleaved with the transcript's events.
func testOutbox(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	mustCreate(t, st, NewSession(clk, "o1", "telegram:-1001"))
	recs := []transcript.Outbox{
		{N: 1, Op: transcript.OutboxOpen, Kind: 1, Seat: "moderator"},
		{N: 2, Op: transcript.OutboxOpen, Kind: 0, Seat: "craftsman", Group: "introductions"},
		{N: 2, Op: transcript.OutboxID, IDs: []string{"hook/42"}},
		{N: 2, Op: transcript.OutboxClosed, Text: "Bayar: «the red of the lantern» & <more>"},
	}
	for _, o := range recs {
		if _, err := st.Append(ctx, "o1", store.Event{Type: transcript.EventOutbox, Data: mustJSON(t, o)}); err != nil {
			t.Fatalf("Append outbox: %v", err)
		}
	}
	if _, err := st.Append(ctx, "o1", store.Event{Type: transcript.EventSpeech, Seat: "craftsman", Text: "the red of the lantern"}); err != nil {
		t.Fatal(err)
	}
	// IDs reported concurrently by several writers.
	var wg sync.WaitGroup
	for n := 3; n < 9; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.Append(ctx, "o1", store.Event{Type: transcript.EventOutbox,
				Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"op":"id","ids":["m"]}`, n))}); err != nil {
				t.Errorf("Append outbox: %v", err)
			}
		}()
	}
	wg.Wait()
	evs, err := st.Events(ctx, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(recs)+1+6 {
		t.Fatalf("Events = %d, want %d", len(evs), len(recs)+7)
	}
	for i, o := range recs {
		var got transcript.Outbox
		if evs[i].Type != transcript.EventOutbox || json.Unmarshal(evs[i].Data, &got) != nil || !reflect.DeepEqual(got, o) {
			t.Fatalf("event %d = %s %s, want %+v", i, evs[i].Type, evs[i].Data, o)
		}
	}
	if evs[len(recs)].Type != transcript.EventSpeech {
		t.Fatalf("the speech is not where it was appended: %+v", evs[len(recs)])
	}
	seen := map[int]bool{}
	for i, ev := range evs[len(recs)+1:] {
		var got transcript.Outbox
		if err := json.Unmarshal(ev.Data, &got); err != nil || got.Op != transcript.OutboxID || seen[got.N] {
			t.Fatalf("concurrent record %d = %s", i, ev.Data)
		}
		seen[got.N] = true
		if i > 0 && ev.Seq <= evs[len(recs)+i].Seq {
			t.Fatalf("Seq not increasing: %d after %d", ev.Seq, evs[len(recs)+i].Seq)
		}
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
