package bot

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

func TestQueuesKeepOrderPerKeyAndRecoverPanics(t *testing.T) {
	var mu sync.Mutex
	var panics []string
	q := NewQueues(QueueOptions{Max: 100, OnPanic: func(key string, r any, _ []byte) {
		mu.Lock()
		panics = append(panics, fmt.Sprint(key, ":", r))
		mu.Unlock()
	}})
	ctx := context.Background()
	got := map[string][]int{}
	hold := make(chan struct{})
	q.Add(ctx, "a", func(context.Context) { <-hold }) // a's queue is busy
	for i := range 50 {
		for _, k := range []string{"a", "b"} {
			q.Add(ctx, k, func(context.Context) {
				if i == 7 {
					panic("boom")
				}
				mu.Lock()
				got[k] = append(got[k], i)
				mu.Unlock()
			})
		}
	}
	// Urgent work runs while a's queue is held.
	urgent := make(chan struct{})
	q.Urgent(ctx, "a", func(context.Context) { close(urgent) })
	<-urgent
	close(hold)
	q.Wait()
	for _, k := range []string{"a", "b"} {
		if len(got[k]) != 49 {
			t.Fatalf("%s ran %d of 49", k, len(got[k]))
		}
		for j := 1; j < len(got[k]); j++ {
			if got[k][j] <= got[k][j-1] {
				t.Fatalf("%s out of order: %v", k, got[k])
			}
		}
	}
	if len(panics) != 2 {
		t.Fatalf("panics = %v", panics)
	}
}

func TestQueuesAreBounded(t *testing.T) {
	dropped := 0
	q := NewQueues(QueueOptions{Max: 2, OnDrop: func(string) { dropped++ }})
	hold := make(chan struct{})
	ctx := context.Background()
	running := make(chan struct{})
	q.Add(ctx, "k", func(context.Context) { close(running); <-hold })
	<-running // taken off the queue: two more fit
	ok1, ok2 := q.Add(ctx, "k", func(context.Context) {}), q.Add(ctx, "k", func(context.Context) {})
	if !ok1 || !ok2 || q.Add(ctx, "k", func(context.Context) {}) || dropped != 1 {
		t.Fatalf("bound not kept: %v %v dropped %d", ok1, ok2, dropped)
	}
	close(hold)
	q.Wait()
}
