package web

import (
	"context"
	"errors"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tableround/tableround/internal/clock"
)

// follower is a table mirrored from another replica.
type follower struct {
	table string
	log   *Log
	stop  <-chan struct{}
	done  chan struct{}
	once  sync.Once
}

// finish tells whoever waits that the follower adds no more.
func (fl *follower) finish() { fl.once.Do(func() { close(fl.done) }) }

// Follow implements Feed.
func (f *RedisFeed) Follow(table string, log *Log, stop <-chan struct{}) <-chan struct{} {
	fl := &follower{table: table, log: log, stop: stop, done: make(chan struct{})}
	f.mu.Lock()
	if old := f.follows[table]; old != nil {
		old.finish() // replaced: never two followers adding to one table
	}
	f.follows[table] = fl
	f.mu.Unlock()
	select {
	case f.joined <- struct{}{}:
	default: // a wake-up is pending already
	}
	return fl.done
}

// current drops the followers that are stopped or whose log ended and
// returns the others.
func (f *RedisFeed) current() []*follower {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*follower
	for table, fl := range f.follows {
		select {
		case <-fl.stop:
		default:
			if !fl.log.Ended() {
				out = append(out, fl)
				continue
			}
		}
		delete(f.follows, table)
		fl.finish()
	}
	return out
}

// followAll reads every followed table's stream in one XREAD BLOCK and
// appends what arrives to each table's log, until ctx ends.
func (f *RedisFeed) followAll(ctx context.Context) {
	defer func() {
		f.mu.Lock()
		for table, fl := range f.follows {
			delete(f.follows, table)
			fl.finish()
		}
		f.mu.Unlock()
	}()
	for {
		fls := f.current()
		if len(fls) == 0 {
			select {
			case <-f.joined:
				continue
			case <-ctx.Done():
				return
			}
		}
		streams := make([]string, 0, 2*len(fls))
		for _, fl := range fls {
			streams = append(streams, feedKey(fl.table))
		}
		for _, fl := range fls {
			streams = append(streams, entryID(fl.log.Len()))
		}
		res, err := f.c.XRead(ctx, &goredis.XReadArgs{Streams: streams, Count: 1000, Block: f.o.Block}).Result()
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, goredis.Nil) {
			f.log.Warn("follow web tables", "tables", len(fls), "err", err)
			if clock.Sleep(ctx, f.o.Retry) != nil {
				return
			}
			continue
		}
		byKey := map[string]*follower{}
		for _, fl := range fls {
			byKey[feedKey(fl.table)] = fl
		}
		for _, s := range res {
			fl := byKey[s.Stream]
			if fl == nil {
				continue
			}
			for _, m := range s.Messages {
				if entryNumber(m.ID) != fl.log.Len()+1 {
					continue
				}
				d, _ := m.Values["d"].(string)
				fl.log.addData([]byte(d), isEnd([]byte(d)))
			}
		}
	}
}
