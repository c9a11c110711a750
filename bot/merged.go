package bot

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// A concurrent stage (Post.Group) may be shown as one merged message with
// a section per speech (Telegram groups always, Discord when the channel's
// budget is tight). Each section's Post.Created is told the merged
// message's platform IDs wrapped by MergedRef, so the session's outbox
// knows which speeches a message shows; a session resuming after a crash
// hands the sections of one merged message back together
// (MergedReattacher), and the message is completed or replaced in place,
// never posted again beside its partial text.

// mergedPrefix marks a merged message's ID in an outbox.
const mergedPrefix = "merged:"

// MergedRef is the reference a section's Post.Created is told for a
// platform message (id, as the adapter's Reattach takes it) that carries
// several sections.
func MergedRef(id string) string { return mergedPrefix + id }

// CutMergedRef returns the platform ID inside a MergedRef; ok is false
// for the reference of a message of its own.
func CutMergedRef(ref string) (id string, ok bool) { return strings.CutPrefix(ref, mergedPrefix) }

// MergedReattacher is a Conversation that can take over a merged message a
// previous process posted: posts are its sections in the order to show,
// ids the platform messages (MergedRef cut off). It returns one stream per
// post; the message gets its final edit once every stream has closed.
type MergedReattacher interface {
	ReattachMerged(ctx context.Context, posts []Post, ids []string) ([]Stream, error)
}

// MergedIDs tells every section of one merged message the message's
// platform IDs (as MergedRef), including the IDs created before the
// section joined. The zero value is ready to use.
type MergedIDs struct {
	mu   sync.Mutex
	ids  []string
	tell []func(string)
}

// Created records a new platform message of the merged message and tells
// every section joined so far (WriterOptions.OnCreate).
func (f *MergedIDs) Created(id string) {
	f.mu.Lock()
	f.ids = append(f.ids, id)
	tell := slices.Clone(f.tell)
	f.mu.Unlock()
	for _, t := range tell {
		t(MergedRef(id))
	}
}

// Join adds a section's Post.Created (nil is ignored) and tells it the
// IDs that exist already.
func (f *MergedIDs) Join(created func(string)) {
	if created == nil {
		return
	}
	f.mu.Lock()
	f.tell = append(f.tell, created)
	ids := slices.Clone(f.ids)
	f.mu.Unlock()
	for _, id := range ids {
		created(MergedRef(id))
	}
}

// Existing records IDs a previous process created (a reattached merged
// message). Call it after the sections joined: they knew these IDs
// already and are not told them again.
func (f *MergedIDs) Existing(ids []string) {
	f.mu.Lock()
	f.ids = append(f.ids, ids...)
	f.mu.Unlock()
}
