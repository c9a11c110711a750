package store

import (
	"errors"
	"time"
)

// ErrExists is returned by CreateSession when the ID is already taken.
var ErrExists = errors.New("store: already exists")

// Retention defaults (DESIGN §4, §8 "Retention").
const (
	DefaultSessionTTL = 24 * time.Hour
	DefaultExportTTL  = 720 * time.Hour
	DefaultMemoryTTL  = 2160 * time.Hour
	DefaultMemoryCap  = 20
)

// Retention says how long each kind of data is kept. Both stores take it.
// A zero field means its default; a negative duration means "keep forever".
type Retention struct {
	// SessionTTL is the life of the working state: checkpoints (refreshed on
	// every save) and, unless BlobTTL says otherwise, blobs. SESSION_TTL.
	SessionTTL time.Duration
	// ExportTTL is the life of what export reads: session metadata and the
	// event log, refreshed on every write. EXPORT_TTL.
	ExportTTL time.Duration
	// MemoryTTL is the life of a channel's memory, refreshed on Remember.
	// MEMORY_TTL.
	MemoryTTL time.Duration
	// BlobTTL is the life of blobs (photos, generated images); zero means
	// SessionTTL. Set it to ExportTTL to keep images for export as long as
	// the transcript.
	BlobTTL time.Duration
	// MemoryCap is how many memories a channel keeps (newest win).
	MemoryCap int
}

// WithDefaults fills zero fields with the defaults.
func (r Retention) WithDefaults() Retention {
	if r.SessionTTL == 0 {
		r.SessionTTL = DefaultSessionTTL
	}
	if r.ExportTTL == 0 {
		r.ExportTTL = DefaultExportTTL
	}
	if r.MemoryTTL == 0 {
		r.MemoryTTL = DefaultMemoryTTL
	}
	if r.BlobTTL == 0 {
		r.BlobTTL = r.SessionTTL
	}
	if r.MemoryCap <= 0 {
		r.MemoryCap = DefaultMemoryCap
	}
	return r
}

// Expiry returns when data written at now with ttl expires; the zero time
// means never (ttl < 0).
func Expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl < 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}
