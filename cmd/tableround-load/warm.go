package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// warmChannels is how many channels the warm-up needs.
func (o *runOptions) warmChannels() int {
	if o.warm {
		return 1
	}
	return 0
}

// warmUp runs one session (load session number n, on its own channel) to
// its end, so that the measured sessions find a warm process: connections
// open, the photo decoder and the adapter's caches used once.
func warmUp(ctx context.Context, fake *child, eng *engine, channel string, n int) error {
	req := mentionRequest{Channel: channel, User: "warmup", FileName: "photo.jpg", FileType: "image/jpeg",
		Content: fmt.Sprintf("A paper-cut bookmark for travellers (load s%03d)", n), Photo: &n}
	var reply map[string]string
	if err := fake.call(ctx, "/_load/mention", req, &reply); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if err := waitEvery(ctx, time.Second, func() bool {
		_, _, ok := eng.finished(ctx, n)
		return ok && eng.mgr.Running() == 0
	}); err != nil {
		return fmt.Errorf("warm-up session: %w", err)
	}
	return nil
}

// since keeps the model calls started and the writes answered at or after
// t.
func since(t time.Time, calls []Call, writes []Write) ([]Call, []Write) {
	var cs []Call
	for _, c := range calls {
		if c.Start >= t.UnixNano() {
			cs = append(cs, c)
		}
	}
	var ws []Write
	for _, w := range writes {
		if w.T >= t.UnixNano() {
			ws = append(ws, w)
		}
	}
	return cs, ws
}

// saveRecords writes the run's raw records to file ("": nothing).
func saveRecords(file string, calls []Call, writes []Write) error {
	if file == "" {
		return nil
	}
	b, err := json.Marshal(struct {
		Calls  []Call  `json:"calls"`
		Writes []Write `json:"writes"`
	}{calls, writes})
	if err != nil {
		return fmt.Errorf("records: %w", err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return fmt.Errorf("records: %w", err)
	}
	return nil
}
