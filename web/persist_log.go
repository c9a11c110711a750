package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// A table's log is kept with its session when the process stops while
// the session runs (a deploy, a SIGTERM), so that after the restart the
// page resumes with the same event IDs: a browser reconnecting with
// Last-Event-ID then misses and doubles nothing. Without it (a crash) the
// table is rebuilt from the session's own log, with other IDs.

// logBlob holds a suspended table's events, a JSON array; empty once a
// process has taken it back (it is read once, so a later crash never
// brings back an older copy).
const logBlob = "web-log"

// imageBlob holds picture n of a suspended table.
func imageBlob(n int) string { return "web-img-" + strconv.Itoa(n) }

// SaveLogs keeps the log (and pictures) of every table whose session this
// process ran and did not end. Call it once the sessions have stopped,
// before the store closes. With a Feed it does nothing: the feed has them.
func (h *Hub) SaveLogs(ctx context.Context) error {
	if h.Store == nil || h.Feed != nil {
		return nil
	}
	tables := h.tables.all()
	var errs []error
	for _, t := range tables {
		t.mu.Lock()
		sid, own := t.session, t.publishing
		t.mu.Unlock()
		if sid == "" || !own || t.Log.Ended() {
			continue
		}
		if err := h.saveLog(ctx, sid, t); err != nil {
			errs = append(errs, fmt.Errorf("keep the web table of %s: %w", sid, err))
		}
	}
	return errors.Join(errs...)
}

func (h *Hub) saveLog(ctx context.Context, sid string, t *Table) error {
	frames, _ := t.Log.Since(0)
	var b bytes.Buffer
	b.WriteByte('[')
	for i, f := range frames {
		if i > 0 {
			b.WriteByte(',')
		}
		data := frameData(f)
		if n := imageNumber(data); n > 0 {
			if mime, img, ok := t.Conv.Image(n); ok {
				if err := h.Store.PutBlob(ctx, sid, imageBlob(n), append([]byte(mime+"\n"), img...)); err != nil {
					return err
				}
			}
		}
		b.Write(data)
	}
	b.WriteByte(']')
	return h.Store.PutBlob(ctx, sid, logBlob, b.Bytes())
}

// loadSaved fills t from a kept log, when there is one, and empties the
// kept copy.
func (h *Hub) loadSaved(ctx context.Context, sid string, t *Table) error {
	raw, err := h.Store.GetBlob(ctx, sid, logBlob)
	if err != nil || len(raw) == 0 {
		return nil // none kept, or taken back already
	}
	var events []json.RawMessage
	if err := json.Unmarshal(raw, &events); err != nil {
		return fmt.Errorf("read the kept web table of %s: %w", sid, err)
	}
	if err := h.Store.PutBlob(ctx, sid, logBlob, []byte{}); err != nil {
		return err
	}
	for _, data := range events {
		t.Log.addData(data, isEnd(data))
	}
	t.Conv.continueAfter(t.Log)
	for _, data := range events {
		n := imageNumber(data)
		if n == 0 {
			continue
		}
		if v, err := h.Store.GetBlob(ctx, sid, imageBlob(n)); err == nil {
			if mime, img, ok := bytes.Cut(v, []byte("\n")); ok {
				t.Conv.setImage(n, string(mime), img)
			}
		}
	}
	return nil
}

// setImage puts picture n back (a kept table's).
func (c *Conv) setImage(n int, mime string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n >= 1 && n <= len(c.images) {
		c.images[n-1] = image{MIME: mime, Data: data}
	}
}
