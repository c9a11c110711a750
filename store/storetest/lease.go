package storetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

func testLeases(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	const ch = "discord:1"
	mustCreate(t, st, NewSession(clk, "l1", ch))
	mustCreate(t, st, NewSession(clk, "l2", ch))

	a, err := st.AcquireLease(ctx, ch, "l1", "proc-a", time.Minute)
	if err != nil {
		t.Fatalf("AcquireLease: %v", err)
	}
	if a.Channel != ch || a.SessionID != "l1" || a.Owner != "proc-a" || a.Token <= 0 || !a.ExpiresAt.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("lease = %+v", a)
	}
	_, err = st.AcquireLease(ctx, ch, "l2", "proc-b", time.Minute)
	wantErr(t, "AcquireLease(held)", err, store.ErrLocked)
	if _, err := st.AcquireLease(ctx, "discord:2", "l2", "proc-b", time.Minute); err != nil {
		t.Fatalf("AcquireLease(other channel): %v", err)
	}

	clk.Advance(50 * time.Second)
	a2, err := st.RenewLease(ctx, a, time.Minute)
	if err != nil {
		t.Fatalf("RenewLease: %v", err)
	}
	if a2.Token != a.Token || !a2.ExpiresAt.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("renewed = %+v", a2)
	}
	clk.Advance(50 * time.Second) // past the first expiry, not the renewed one
	_, err = st.AcquireLease(ctx, ch, "l2", "proc-b", time.Minute)
	wantErr(t, "AcquireLease(renewed)", err, store.ErrLocked)

	clk.Advance(11 * time.Second) // now expired
	b, err := st.AcquireLease(ctx, ch, "l2", "proc-b", time.Minute)
	if err != nil {
		t.Fatalf("AcquireLease(expired): %v", err)
	}
	if b.Token <= a.Token {
		t.Fatalf("token after takeover = %d, want > %d", b.Token, a.Token)
	}
	_, err = st.RenewLease(ctx, a2, time.Minute)
	wantErr(t, "RenewLease(lost)", err, store.ErrLeaseLost)
	if err := st.ReleaseLease(ctx, a2); err != nil {
		t.Fatalf("ReleaseLease(lost) = %v, want nil", err)
	}
	// The lost release must not have freed b's lease.
	_, err = st.AcquireLease(ctx, ch, "l1", "proc-a", time.Minute)
	wantErr(t, "AcquireLease(after lost release)", err, store.ErrLocked)

	if err := st.ReleaseLease(ctx, b); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	_, err = st.RenewLease(ctx, b, time.Minute)
	wantErr(t, "RenewLease(released)", err, store.ErrLeaseLost)
	c, err := st.AcquireLease(ctx, ch, "l1", "proc-c", time.Minute)
	if err != nil {
		t.Fatalf("AcquireLease(released): %v", err)
	}
	if c.Token <= b.Token {
		t.Fatalf("token after release = %d, want > %d", c.Token, b.Token)
	}
	// The holder re-acquiring its own lease (a resume in the same process)
	// gets a new token; the old one is fenced off.
	c2, err := st.AcquireLease(ctx, ch, "l1", "proc-c", time.Minute)
	if err != nil || c2.Token <= c.Token {
		t.Fatalf("re-acquire by holder = %+v, %v", c2, err)
	}
	_, err = st.RenewLease(ctx, c, time.Minute)
	wantErr(t, "RenewLease(superseded)", err, store.ErrLeaseLost)
}

func testFencing(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	const ch = "telegram:-100"
	mustCreate(t, st, NewSession(clk, "f1", ch))
	a, err := st.AcquireLease(ctx, ch, "f1", "proc-a", time.Minute)
	if err != nil {
		t.Fatalf("AcquireLease: %v", err)
	}
	if err := st.SaveCheckpoint(ctx, "f1", store.Checkpoint{Step: 1, State: []byte("one"), Fence: a.Token}); err != nil {
		t.Fatalf("SaveCheckpoint(fenced, holder): %v", err)
	}
	err = st.SaveCheckpoint(ctx, "f1", store.Checkpoint{Step: 9, State: []byte("stale"), Fence: a.Token + 1})
	wantErr(t, "SaveCheckpoint(wrong fence)", err, store.ErrLeaseLost)

	clk.Advance(2 * time.Minute)
	b, err := st.AcquireLease(ctx, ch, "f1", "proc-b", time.Minute)
	if err != nil {
		t.Fatalf("AcquireLease(takeover): %v", err)
	}
	err = st.SaveCheckpoint(ctx, "f1", store.Checkpoint{Step: 2, State: []byte("zombie"), Fence: a.Token})
	wantErr(t, "SaveCheckpoint(old fence)", err, store.ErrLeaseLost)
	if err := st.SaveCheckpoint(ctx, "f1", store.Checkpoint{Step: 2, State: []byte("two"), Fence: b.Token}); err != nil {
		t.Fatalf("SaveCheckpoint(new holder): %v", err)
	}
	if err := st.ReleaseLease(ctx, b); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	err = st.SaveCheckpoint(ctx, "f1", store.Checkpoint{Step: 3, State: []byte("late"), Fence: b.Token})
	wantErr(t, "SaveCheckpoint(released fence)", err, store.ErrLeaseLost)
	// Unfenced writes (Fence 0) are not checked.
	if err := st.SaveCheckpoint(ctx, "f1", store.Checkpoint{Step: 4, State: []byte("free")}); err != nil {
		t.Fatalf("SaveCheckpoint(unfenced): %v", err)
	}
	cp, err := st.LoadCheckpoint(ctx, "f1")
	if err != nil || cp.Step != 4 || string(cp.State) != "free" {
		t.Fatalf("LoadCheckpoint = %+v, %v", cp, err)
	}
}

func testOrphans(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	// o1..o3 run on three channels with leases expiring at +1m, +2m, +3m;
	// done finished without releasing; live keeps renewing.
	for i, id := range []string{"o1", "o2", "o3", "done", "live"} {
		ch := fmt.Sprintf("discord:%d", i)
		mustCreate(t, st, NewSession(clk, id, ch))
		ttl := time.Duration(i+1) * time.Minute
		if id == "live" {
			ttl = time.Hour
		}
		if _, err := st.AcquireLease(ctx, ch, id, "dead-proc", ttl); err != nil {
			t.Fatalf("AcquireLease(%s): %v", id, err)
		}
	}
	done, err := st.GetSession(ctx, "done")
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	done.Status = store.StatusFinished
	if err := st.UpdateSession(ctx, done); err != nil {
		t.Fatalf("UpdateSession: %v", err)
	}
	if got, err := st.Orphans(ctx, clk.Now(), 10); err != nil || len(got) != 0 {
		t.Fatalf("Orphans(before expiry) = %v, %v", sessionIDs(got), err)
	}
	now := clk.Now().Add(150 * time.Second)
	got, err := st.Orphans(ctx, now, 10)
	if err != nil || fmt.Sprint(sessionIDs(got)) != "[o1 o2]" {
		t.Fatalf("Orphans(+150s) = %v, %v; want [o1 o2]", sessionIDs(got), err)
	}
	now = clk.Now().Add(10 * time.Minute)
	got, err = st.Orphans(ctx, now, 10)
	if err != nil || fmt.Sprint(sessionIDs(got)) != "[o1 o2 o3]" {
		t.Fatalf("Orphans(+10m) = %v, %v; want [o1 o2 o3]", sessionIDs(got), err)
	}
	got, err = st.Orphans(ctx, now, 2)
	if err != nil || fmt.Sprint(sessionIDs(got)) != "[o1 o2]" {
		t.Fatalf("Orphans(limit 2) = %v, %v", sessionIDs(got), err)
	}
	// Resuming o1 (a new lease) takes it off the list.
	clk.Advance(10 * time.Minute)
	if _, err := st.AcquireLease(ctx, "discord:0", "o1", "new-proc", time.Minute); err != nil {
		t.Fatalf("AcquireLease(resume): %v", err)
	}
	got, err = st.Orphans(ctx, clk.Now(), 10)
	if err != nil || fmt.Sprint(sessionIDs(got)) != "[o2 o3]" {
		t.Fatalf("Orphans(after resume) = %v, %v; want [o2 o3]", sessionIDs(got), err)
	}
}

func testMemory(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	if got, err := st.Memories(ctx, "discord:9", 5); err != nil || len(got) != 0 {
		t.Fatalf("Memories(empty) = %v, %v", got, err)
	}
	total := store.DefaultMemoryCap + 5
	for i := 1; i <= total; i++ {
		m := store.Memory{SessionID: fmt.Sprintf("m%d", i), Topic: "t", Keywords: []string{"red", "窗花"}, Summary: "s", Time: clk.Now()}
		if err := st.Remember(ctx, "discord:9", m); err != nil {
			t.Fatalf("Remember: %v", err)
		}
		clk.Advance(time.Minute)
	}
	if err := st.Remember(ctx, "discord:8", store.Memory{SessionID: "x", Time: clk.Now()}); err != nil {
		t.Fatalf("Remember: %v", err)
	}
	got, err := st.Memories(ctx, "discord:9", 3)
	if err != nil || len(got) != 3 || got[0].SessionID != fmt.Sprintf("m%d", total) || got[2].SessionID != fmt.Sprintf("m%d", total-2) {
		t.Fatalf("Memories(3) = %+v, %v", got, err)
	}
	if got[0].Keywords[1] != "窗花" {
		t.Fatalf("keywords = %v", got[0].Keywords)
	}
	got, err = st.Memories(ctx, "discord:9", 1000)
	if err != nil || len(got) != store.DefaultMemoryCap || got[len(got)-1].SessionID != "m6" {
		t.Fatalf("Memories(all) = %d, %v; want the %d newest", len(got), err, store.DefaultMemoryCap)
	}
	if err := st.Forget(ctx, "discord:9"); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if got, err := st.Memories(ctx, "discord:9", 5); err != nil || len(got) != 0 {
		t.Fatalf("Memories(after Forget) = %v, %v", got, err)
	}
	if got, err := st.Memories(ctx, "discord:8", 5); err != nil || len(got) != 1 {
		t.Fatalf("Forget touched another channel: %v, %v", got, err)
	}
}

func testConcurrentAppends(t *testing.T, st store.Store, clk *clock.Manual) {
	ctx := context.Background()
	mustCreate(t, st, NewSession(clk, "p1", "console:a"))
	const writers, each = 6, 15
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seqs []int64
	)
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(0)
			for i := 0; i < each; i++ {
				ev, err := st.Append(ctx, "p1", store.Event{Type: transcript.EventSpeech, Seat: fmt.Sprint(w), Text: fmt.Sprint(i)})
				if err != nil {
					errs <- err
					return
				}
				if ev.Seq <= last {
					errs <- fmt.Errorf("writer %d: Seq %d after %d", w, ev.Seq, last)
					return
				}
				last = ev.Seq
				mu.Lock()
				seqs = append(seqs, ev.Seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("Seqs are not 1..%d: position %d has %d", writers*each, i, s)
		}
	}
	evs, err := st.Events(ctx, "p1")
	if err != nil || len(evs) != writers*each {
		t.Fatalf("Events = %d, %v", len(evs), err)
	}
	next := map[string]int{} // each writer's events keep its own order
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("Events[%d].Seq = %d", i, ev.Seq)
		}
		if ev.Text != fmt.Sprint(next[ev.Seat]) {
			t.Fatalf("writer %s: event %s out of order", ev.Seat, ev.Text)
		}
		next[ev.Seat]++
	}
}
