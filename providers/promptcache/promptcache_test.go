package promptcache

import (
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
)

func TestPrefixRule(t *testing.T) {
	base := strings.Repeat("abcd", 64*5) // 320 tokens: 5 blocks of 64
	for _, tc := range []struct {
		name   string
		rule   Rule
		stored []string
		prompt string
		want   int
	}{
		{"nothing answered yet", DeepSeek(), nil, base, 0},
		{"same prompt again: whole blocks", DeepSeek(), []string{base}, base, 320},
		{"grown by appending", DeepSeek(), []string{base}, base + strings.Repeat("wxyz", 100), 320},
		{"partial last block is not cached", DeepSeek(), []string{base + "abcd"}, base + "abcd", 320},
		{"changed in the second block", DeepSeek(), []string{base}, base[:300] + "Z" + base[301:], 64},
		{"changed at the start", DeepSeek(), []string{base}, "Z" + base[1:], 0},
		{"longest of several", DeepSeek(), []string{base[:512], base[:1024]}, base, 256},
		{"OpenAI needs 1,024 tokens", OpenAI(), []string{base}, base, 0},
		{"OpenAI in 128-token steps", OpenAI(), []string{strings.Repeat("abcd", 1200)}, strings.Repeat("abcd", 1200) + "more", 1152},
		{"CJK counts one token each", DeepSeek(), []string{strings.Repeat("红", 130)}, strings.Repeat("红", 130), 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(tc.rule)
			for _, p := range tc.stored {
				c.Store(p)
			}
			tokens, cached := c.Lookup(tc.prompt)
			if cached != tc.want {
				t.Errorf("cached %d of %d, want %d", cached, tokens, tc.want)
			}
			if cached > tokens {
				t.Errorf("cached %d > tokens %d", cached, tokens)
			}
		})
	}
}

func TestText(t *testing.T) {
	a := Text([]providers.Message{{Role: providers.RoleSystem, Content: "rules"}, {Role: providers.RoleUser, Content: "ctx"}})
	b := Text([]providers.Message{{Role: providers.RoleSystem, Content: "rules"}, {Role: providers.RoleUser, Content: "ctx more"}})
	if !strings.HasPrefix(b, a[:len(a)-1]) || strings.HasPrefix(b, a) {
		t.Errorf("Text must keep a growing message a prefix up to its end: %q %q", a, b)
	}
}
