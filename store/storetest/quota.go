package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/internal/clock"
	"github.com/tableround/tableround/store"
)

func take(t *testing.T, st store.Store, key, id string, limit int) store.Quota {
	t.Helper()
	q, err := st.TakeQuota(context.Background(), key, id, limit, time.Hour)
	if err != nil {
		t.Fatalf("TakeQuota(%s, %s): %v", key, id, err)
	}
	return q
}

func testQuota(t *testing.T, st store.Store, clk *clock.Manual) {
	first := clk.Now()
	for i := 1; i <= 3; i++ {
		if q := take(t, st, "user:discord:1", fmt.Sprint("u", i), 3); !q.Allowed || q.Used != i {
			t.Fatalf("take %d = %+v, want allowed with used %d", i, q, i)
		}
		clk.Advance(10 * time.Minute)
	}
	q := take(t, st, "user:discord:1", "u4", 3)
	if q.Allowed || q.Used != 3 || !q.RetryAt.Equal(first.Add(time.Hour)) {
		t.Fatalf("fourth take = %+v, want refused until %v", q, first.Add(time.Hour))
	}
	if q := take(t, st, "user:telegram:1", "x", 3); !q.Allowed {
		t.Fatalf("another key shares the count: %+v", q)
	}
	// Returning a use makes room; an unknown ID is no error.
	if err := st.ReturnQuota(context.Background(), "user:discord:1", "u3"); err != nil {
		t.Fatal(err)
	}
	if err := st.ReturnQuota(context.Background(), "user:discord:1", "nope"); err != nil {
		t.Fatal(err)
	}
	if q := take(t, st, "user:discord:1", "u5", 3); !q.Allowed {
		t.Fatalf("take after return = %+v", q)
	}
	// The window slides: once the first use is an hour old, one more fits.
	clk.Advance(time.Hour - 30*time.Minute) // first + 60m
	if q := take(t, st, "user:discord:1", "u6", 3); !q.Allowed || q.Used != 3 {
		t.Fatalf("take after the window slid = %+v", q)
	}
	if _, err := st.TakeQuota(context.Background(), "k", "i", 0, time.Hour); err == nil {
		t.Fatal("TakeQuota with limit 0: no error")
	}
}

// testQuotaConcurrent takes from many goroutines at once: exactly limit
// succeed.
func testQuotaConcurrent(t *testing.T, st store.Store, clk *clock.Manual) {
	const limit, tries = 5, 24
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := st.TakeQuota(context.Background(), "user:race", fmt.Sprint("r", i), limit, time.Hour)
			if err != nil {
				t.Errorf("TakeQuota: %v", err)
				return
			}
			if q.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != limit {
		t.Fatalf("%d of %d concurrent takes allowed, want %d", allowed, tries, limit)
	}
}
