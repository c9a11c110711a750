// Package promptcache simulates the automatic prompt caches of the model
// providers, for the in-repo fake models (the demo model, the test fakes
// of package providertest and the load tool's fake model), so that their
// usage reports cached input tokens the way the real APIs do and tests can
// check the accounting.
//
// The rule is the providers' own: a prompt's cached tokens are its longest
// prefix, in whole blocks of Unit tokens (DeepSeek 64, OpenAI 128), that an
// earlier call had sent and that had already been answered (Store is
// called at the first token), counted only from Min tokens on (OpenAI
// 1,024). Tokens are estimated: a CJK character is one, other text one per
// four bytes' worth of characters (as roundtable.EstimateTokens counts).
//
// It knows nothing of sessions or chat platforms and does no I/O.
package promptcache

import (
	"hash/fnv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tableround/tableround/providers"
)

// Rule is a provider's caching rule.
type Rule struct {
	Unit int // tokens per cached block
	Min  int // fewest prompt tokens a cache hit needs (0: one block)
}

// The rules of the providers, from their documentation.
// DeepSeek caches in 64-token units from the first unit
// (https://api-docs.deepseek.com/guides/kv_cache).
func DeepSeek() Rule { return Rule{Unit: 64} }

// OpenAI caches prompts of 1,024 tokens or more, in 128-token steps
// (https://platform.openai.com/docs/guides/prompt-caching).
func OpenAI() Rule { return Rule{Unit: 128, Min: 1024} }

// maxBlocks bounds the memory of a long-lived cache (the demo model in
// serve): past it the cache forgets everything, as a provider's does.
const maxBlocks = 1 << 20

// Cache is one simulated prompt cache. It is safe for concurrent use.
type Cache struct {
	rule Rule
	mu   sync.Mutex
	seen map[uint64]struct{}
}

// New returns an empty cache with the rule (Unit defaults to 64).
func New(r Rule) *Cache {
	if r.Unit <= 0 {
		r.Unit = 64
	}
	return &Cache{rule: r, seen: map[uint64]struct{}{}}
}

// blocks returns the prompt's estimated tokens and the hash of its prefix
// at the end of each whole block.
func (c *Cache) blocks(prompt string) (tokens int, hashes []uint64) {
	h := fnv.New64a()
	quarter, cjk, other := 4*c.rule.Unit, 0, 0
	next, written := quarter, 0
	for i, r := range prompt {
		if r >= 0x1100 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			cjk++
		} else {
			other++
		}
		if 4*cjk+other >= next {
			end := i + utf8.RuneLen(r)
			_, _ = h.Write([]byte(prompt[written:end]))
			written = end
			hashes = append(hashes, h.Sum64())
			next += quarter
		}
	}
	return cjk + other/4 + 1, hashes
}

// Lookup returns the prompt's estimated tokens and how many of them the
// cache holds.
func (c *Cache) Lookup(prompt string) (tokens, cached int) {
	tokens, hashes := c.blocks(prompt)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, h := range hashes {
		if _, ok := c.seen[h]; !ok {
			break
		}
		n++
	}
	cached = min(n*c.rule.Unit, tokens)
	if tokens < c.rule.Min || cached < c.rule.Min {
		cached = 0
	}
	return tokens, cached
}

// Store records the prompt as processed: later prompts that start the same
// way hit the cache.
func (c *Cache) Store(prompt string) {
	_, hashes := c.blocks(prompt)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen)+len(hashes) > maxBlocks {
		clear(c.seen)
	}
	for _, h := range hashes {
		c.seen[h] = struct{}{}
	}
}

// Text serialises chat messages in order, as the providers see them, for
// Lookup and Store.
func Text(msgs []providers.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(string(m.Role))
		b.WriteByte('\n')
		b.WriteString(m.Content)
		b.WriteByte(0)
	}
	return b.String()
}
