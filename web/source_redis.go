package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/internal/clock"
)

// Feed carries the live events of the tables one replica runs to the
// others, so a viewer connected to any replica sees a session that runs on
// another. Event n of a table is event n on every replica, so a browser
// that reconnects to another replica resumes where it left off.
type Feed interface {
	// Publish copies the table's events after event after to the feed, as
	// they come, with the pictures they show, until its log ends. It
	// returns at once: the session never waits for the feed.
	Publish(t *Table, after int)
	// Load returns the events published for table after event after, in
	// order, each encoded as in the log.
	Load(ctx context.Context, table string, after int) ([][]byte, error)
	// Follow appends the events published for table after log's last one
	// to log as they come, until the log ends or stop is closed. It returns
	// at once; done is closed when it has stopped adding.
	Follow(table string, log *Log, stop <-chan struct{}) (done <-chan struct{})
	// Image returns picture n of table as published (ok false when none).
	Image(ctx context.Context, table string, n int) (mime string, data []byte, ok bool)
}

// RedisFeed is a Feed on one Redis stream per table,
// tr:{web}:feed:<table>, whose entry 0-n is the table's event n. A
// publisher reads the table's log like a viewer (a goroutine and a
// position), so the session's hot path never touches Redis; followers read
// every followed table's stream in one XREAD BLOCK, so mirroring many
// tables holds one Redis connection, not one each.
type RedisFeed struct {
	c     goredis.UniversalClient
	o     RedisFeedOptions
	log   *slog.Logger
	jobs  chan func(ctx context.Context)
	ended chan struct{} // closed when Run returns
	once  sync.Once

	mu      sync.Mutex
	follows map[string]*follower // by table
	joined  chan struct{}        // signalled when a follower joins
}

// RedisFeedOptions tune a RedisFeed.
type RedisFeedOptions struct {
	// TTL is how long a table's feed is kept after its last event
	// (default 24h, like SESSION_TTL).
	TTL time.Duration
	// Block is how long the followers' read waits for new events before
	// it takes in new followers and lets stopped ones go (default 1s).
	Block time.Duration
	// Retry is the wait after a Redis error (default 1s).
	Retry  time.Duration
	Logger *slog.Logger
}

var _ Feed = (*RedisFeed)(nil)

// NewRedisFeed returns a feed on c; call Run.
func NewRedisFeed(c goredis.UniversalClient, o RedisFeedOptions) *RedisFeed {
	if o.TTL <= 0 {
		o.TTL = 24 * time.Hour
	}
	if o.Block <= 0 {
		o.Block = time.Second
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &RedisFeed{c: c, o: o, log: o.Logger.With("component", "web-feed"),
		jobs: make(chan func(context.Context)), ended: make(chan struct{}),
		follows: map[string]*follower{}, joined: make(chan struct{}, 1)}
}

// Run runs the publishers and followers until ctx ends, then waits for
// them.
func (f *RedisFeed) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer func() {
		f.once.Do(func() { close(f.ended) })
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.followAll(ctx)
	}()
	for {
		select {
		case job := <-f.jobs:
			wg.Add(1)
			go func() {
				defer wg.Done()
				job(ctx)
			}()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// start hands a job to Run; false when Run has returned.
func (f *RedisFeed) start(job func(ctx context.Context)) bool {
	select {
	case f.jobs <- job:
		return true
	case <-f.ended:
		return false
	}
}

// feedKey is a table's stream. Every feed key shares one hash tag, so
// that one XREAD can follow many tables on Redis Cluster too (one slot
// carries the web feeds: they are small next to the sessions' own keys).
func feedKey(table string) string { return "tr:{web}:feed:" + table }

func entryID(n int) string { return "0-" + strconv.Itoa(n) }

// entryNumber is n of entry ID "0-n", 0 when it is not one.
func entryNumber(id string) int {
	s, ok := strings.CutPrefix(id, "0-")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(s)
	return n
}

func imageKey(table string, n int) string { return "tr:{web}:img:" + table + ":" + strconv.Itoa(n) }

// Publish implements Feed.
func (f *RedisFeed) Publish(t *Table, after int) {
	f.start(func(ctx context.Context) { f.publish(ctx, t, after) })
}

func (f *RedisFeed) publish(ctx context.Context, t *Table, pos int) {
	table, log := t.ID, t.Log
	key := feedKey(table)
	for {
		frames, wake := log.Since(pos)
		if len(frames) > 0 {
			pipe := f.c.Pipeline()
			for i, fr := range frames {
				data := frameData(fr)
				// A picture goes first, so a follower that reads the event
				// finds it.
				if n := imageNumber(data); n > 0 {
					if mime, img, ok := t.Conv.Image(n); ok {
						pipe.Set(ctx, imageKey(table, n), mime+"\n"+string(img), f.o.TTL)
					}
				}
				pipe.XAdd(ctx, &goredis.XAddArgs{Stream: key, ID: entryID(pos + i + 1), Values: []any{"d", data}})
			}
			pipe.Expire(ctx, key, f.o.TTL)
			if _, err := pipe.Exec(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				// Part of the batch may be in: go on after the stream's
				// last entry.
				f.log.Warn("publish a web table", "table", table, "err", err)
				if clock.Sleep(ctx, f.o.Retry) != nil {
					return
				}
				if last, err := f.last(ctx, key); err == nil {
					pos = max(last, pos)
				}
				continue
			}
			pos += len(frames)
			continue
		}
		if log.Ended() {
			return
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}

// last is the number of the stream's last entry (0 when empty).
func (f *RedisFeed) last(ctx context.Context, key string) (int, error) {
	msgs, err := f.c.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	return entryNumber(msgs[0].ID), nil
}

// Load implements Feed.
func (f *RedisFeed) Load(ctx context.Context, table string, after int) ([][]byte, error) {
	msgs, err := f.c.XRange(ctx, feedKey(table), entryID(after+1), "+").Result()
	if err != nil {
		return nil, fmt.Errorf("read web feed: %w", err)
	}
	var out [][]byte
	for _, m := range msgs {
		if entryNumber(m.ID) != after+len(out)+1 {
			break // a gap: never show events out of place
		}
		d, _ := m.Values["d"].(string)
		out = append(out, []byte(d))
	}
	return out, nil
}

// imageNumber is the picture an encoded "image" event shows, 0 for any
// other event.
func imageNumber(data []byte) int {
	if !bytes.Contains(data, []byte(`"t":"image"`)) {
		return 0
	}
	var ev struct {
		Image int `json:"image"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return 0
	}
	return ev.Image
}

// Image implements Feed.
func (f *RedisFeed) Image(ctx context.Context, table string, n int) (string, []byte, bool) {
	v, err := f.c.Get(ctx, imageKey(table, n)).Bytes()
	if err != nil {
		return "", nil, false
	}
	mime, data, ok := bytes.Cut(v, []byte("\n"))
	return string(mime), data, ok
}
