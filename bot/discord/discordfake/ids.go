package discordfake

import (
	"strconv"
	"sync/atomic"
)

// snowflakes hands out increasing IDs; it needs no lock, so every part of
// the fake can make IDs while holding its own.
type snowflakes struct {
	last atomic.Int64
}

func newSnowflakes() *snowflakes {
	s := &snowflakes{}
	s.last.Store(1_100_000_000_000_000_000)
	return s
}

func (s *snowflakes) newID() string { return strconv.FormatInt(s.last.Add(1), 10) }

// NewID returns a fresh snowflake (for users, guilds, channels in tests).
func (s *snowflakes) NewID() string { return s.newID() }
