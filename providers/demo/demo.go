// Package demo is the built-in demo model (AI_PROVIDER=demo): deterministic,
// bilingual scripted text that streams at a realistic pace, so a new user
// sees a whole session with no account and tests and the load tool have a
// model. It is not an AI and everything that shows it says so.
//
// It reads only what any chat model gets: the request's messages and its Tag
// ("<stage>/<seat>/<lang>"). It must not import the domain.
package demo

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"regexp"
	"strings"
	"time"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/providers/promptcache"

	"github.com/tableround/tableround/internal/clock"
)

// Name is the model name shown on boards and in exports.
const Name = "demo (scripted, not an AI)"

// Options set the pace. The zero value streams instantly.
type Options struct {
	FirstToken      time.Duration // delay before the first chunk
	TokensPerSecond float64       // 0: no delay between chunks
	ChunkTokens     int           // words per chunk (default 4)
	// Clock paces the stream; nil is the wall clock.
	Clock clock.Clock
}

// Realistic is the pace of DESIGN §7's load profile.
func Realistic() Options {
	return Options{FirstToken: 300 * time.Millisecond, TokensPerSecond: 40, ChunkTokens: 4}
}

// Model is the demo chat model. Its usage counts cached input tokens as a
// provider with automatic prompt caching would (DeepSeek's rule), so the
// board and the closing show what caching saves.
type Model struct {
	o     Options
	cache *promptcache.Cache
}

var _ providers.ChatModel = (*Model)(nil)

// New returns a demo model.
func New(o Options) *Model {
	if o.ChunkTokens <= 0 {
		o.ChunkTokens = 4
	}
	o.Clock = clock.Or(o.Clock)
	return &Model{o: o, cache: promptcache.New(promptcache.DeepSeek())}
}

// Stream writes the scripted reply for the request in chunks.
func (m *Model) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	text := Reply(req)
	prompt := promptcache.Text(req.Messages)
	in, cached := m.cache.Lookup(prompt)
	resp := providers.Response{Model: Name, Provider: "demo", FinishReason: "stop"}
	if err := m.o.Clock.Sleep(ctx, m.o.FirstToken); err != nil {
		return resp, err
	}
	m.cache.Store(prompt) // answered: later calls with this prefix hit
	chunks := chunk(text, m.o.ChunkTokens)
	var per time.Duration
	if m.o.TokensPerSecond > 0 {
		per = time.Duration(float64(m.o.ChunkTokens) / m.o.TokensPerSecond * float64(time.Second))
	}
	for i, c := range chunks {
		if i > 0 {
			if err := m.o.Clock.Sleep(ctx, per); err != nil {
				return resp, err
			}
		}
		if err := fn(providers.Delta{Text: c}); err != nil {
			return resp, err
		}
		resp.Text += c
	}
	resp.Usage = providers.Usage{InputTokens: in, CachedInputTokens: cached, OutputTokens: len(chunks) * m.o.ChunkTokens, Calls: 1}
	return resp, nil
}

// chunk splits text into pieces of about n words (CJK: 2n characters).
func chunk(text string, n int) []string {
	var out []string
	var cur strings.Builder
	words := 0
	for _, r := range text {
		cur.WriteRune(r)
		if r == ' ' || r == '\n' || r > 0x2E80 {
			words++
			if r > 0x2E80 && words%2 == 1 {
				continue
			}
		}
		if words >= n {
			out = append(out, cur.String())
			cur.Reset()
			words = 0
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

var (
	nameRe  = regexp.MustCompile(`(?:You are|你是)\s*([^,，]+)[,，]`)
	topicRe = regexp.MustCompile(`«([^»]*)»`)
	arrayRe = regexp.MustCompile(`\[[^\[\]]*\]`)
	roleRe  = regexp.MustCompile(`(?:take the part of the|担任)\s*([^:：]+)[:：]`)
	roleKey = map[string]string{"craftsman": "craftsman", "手工艺人": "craftsman", "consumer": "consumer", "消费者": "consumer",
		"manufacturer": "manufacturer", "生产商": "manufacturer", "designer": "designer", "设计师": "designer"}
)

// Reply is the deterministic text for a request.
func Reply(req providers.Request) string {
	parts := strings.SplitN(req.Tag, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	stage, seat, lang := parts[0], parts[1], parts[2]
	if lang != "zh" {
		lang = "en"
	}
	// The persona card is the last system message and the task the last
	// user message; the topic is in the first user message that quotes one
	// (the shared context, which comes before the card).
	var system, user, topic string
	for _, m := range req.Messages {
		switch m.Role {
		case providers.RoleSystem:
			system = m.Content
		case providers.RoleUser:
			user = m.Content
			if t := topicRe.FindStringSubmatch(m.Content); t != nil && topic == "" {
				topic = t[1]
			}
		}
	}
	d := data{lang: lang, seat: seat, stage: stage, topic: "this topic", name: seat}
	if m := nameRe.FindStringSubmatch(system); m != nil {
		d.name = strings.TrimSpace(m[1])
	}
	if topic != "" {
		d.topic = topic
	}
	// The list to vote on or group is the longest array of strings in the
	// prompt (format examples are short or hold objects).
	for _, a := range arrayRe.FindAllString(user, -1) {
		var l []string
		if json.Unmarshal([]byte(a), &l) == nil && len(l) > len(d.list) {
			d.list = l
		}
	}
	if m := roleRe.FindStringSubmatch(system); m != nil {
		d.role = roleKey[strings.TrimSpace(m[1])]
	}
	return d.reply()
}

type data struct {
	lang, seat, stage, topic, name, role string
	list                                 []string
}

// byRole chooses the option for the speaker's role (craftsman,
// consumer, manufacturer, designer), else by seat.
func (d data) byRole(opts [4]string) string {
	switch d.role {
	case "craftsman":
		return opts[0]
	case "consumer":
		return opts[1]
	case "manufacturer":
		return opts[2]
	case "designer":
		return opts[3]
	}
	return d.pick(opts[:])
}

// pick chooses deterministically among options by seat and stage.
func (d data) pick(opts []string) string {
	h := fnv.New32a()
	h.Write([]byte(d.seat + "/" + d.stage))
	return opts[int(h.Sum32())%len(opts)]
}

func (d data) words() []string {
	if d.lang == "zh" {
		return []string{"对称构图", "红色剪纸", "镂空纹样", "吉祥寓意", "书签形态", "节日礼品", "手工质感", "云纹", "可持续纸材", "年轻化设计"}
	}
	return []string{"symmetric composition", "red paper", "cut-out lattice", "auspicious meaning", "bookmark form", "festival gift", "handmade texture", "cloud motif", "sustainable paper", "youthful design"}
}

// keywords picks n of the bank, offset by seat so tables overlap but differ.
func (d data) keywords(n int) []string {
	bank := d.words()
	h := fnv.New32a()
	h.Write([]byte(d.seat))
	off := int(h.Sum32() % 3)
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, bank[(off+i*2)%len(bank)])
	}
	return out
}
