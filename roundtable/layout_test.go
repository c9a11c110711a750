package roundtable

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
)

// sharedPrefix is what a seat's call shares with the other seats: the
// table's rules and the context message ("" when the call has none).
func sharedPrefix(r providers.Request) (string, bool) {
	if len(r.Messages) != 4 || r.Messages[0].Role != providers.RoleSystem || r.Messages[1].Role != providers.RoleUser ||
		r.Messages[2].Role != providers.RoleSystem || r.Messages[3].Role != providers.RoleUser {
		return "", false
	}
	return r.Messages[0].Content + "\x00" + r.Messages[1].Content, true
}

// TestPromptLayout runs whole sessions and checks the layout the prompt
// caches need: all seats of a concurrent stage send the same shared
// prefix, the persona card comes after it in a system message, and within
// a session the prefix only grows by appending, except right after a
// summary block.
func TestPromptLayout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		lang      string
		budget    int
		summaries bool
	}{
		{"no summary", "en", 100000, false},
		{"summary blocks", "en", 300, true},
		{"Chinese", "zh", 100000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newMemStore()
			st.mems["test:1"] = []store.Memory{{Topic: "kites", Keywords: []string{"red paper", "bamboo"}}}
			m := newScripted()
			cfg := testConfig()
			cfg.ContextBudget, cfg.Language = tc.budget, tc.lang
			if _, err := runSession(t, cfg, testDeps(m, st), &fakeConv{}, Start{Topic: "a paper-cut bookmark", Image: []byte("photo")}); err != nil {
				t.Fatal(err)
			}
			m.mu.Lock()
			reqs := append([]providers.Request(nil), m.reqs...)
			m.mu.Unlock()

			byStage := map[string][]string{}
			prev, summaries, grew, calls := "", 0, 0, 0
			afterSummary := false
			for _, r := range reqs {
				stage := stageOf(r)
				if stage == "summary" {
					summaries++
					afterSummary = true
					continue
				}
				if strings.Contains(r.Tag, "/moderator/") {
					continue
				}
				p, ok := sharedPrefix(r)
				if !ok {
					t.Fatalf("%s: messages are not rules, context, persona, task: %+v", r.Tag, r.Messages)
				}
				if !strings.Contains(r.Messages[2].Content, "You are") && !strings.Contains(r.Messages[2].Content, "你是") {
					t.Fatalf("%s: the persona card does not say who speaks: %q", r.Tag, r.Messages[2].Content)
				}
				calls++
				switch {
				case strings.HasPrefix(p, prev):
					if len(p) > len(prev) {
						grew++
					}
				case afterSummary:
				default:
					t.Fatalf("%s: the shared prefix changed without a summary block\nbefore: %q\nafter:  %q", r.Tag, prev, p)
				}
				prev, afterSummary = p, false
				if r.Tag != "" && isConcurrent(stage) {
					byStage[stage] = append(byStage[stage], p)
				}
			}
			for stage, ps := range byStage {
				if len(ps) != 6 {
					t.Fatalf("%s: %d calls", stage, len(ps))
				}
				for _, p := range ps[1:] {
					if p != ps[0] {
						t.Errorf("%s: seats' shared prefixes differ", stage)
					}
				}
			}
			if tc.summaries != (summaries > 0) {
				t.Fatalf("%d summary calls", summaries)
			}
			if calls < 40 || grew < 10 {
				t.Fatalf("%d seat calls, the prefix grew %d times", calls, grew)
			}
		})
	}
}

func isConcurrent(stage string) bool {
	switch stage {
	case StageIntro, StagePhoto, StageKeywords, StageVoting, StageCards:
		return true
	}
	return false
}

// orderModel records when each call starts and when it is first answered.
type orderModel struct {
	inner providers.ChatModel
	mu    sync.Mutex
	log   []string // "start <tag>" and "answer <tag>"
}

func (o *orderModel) note(s string) {
	o.mu.Lock()
	o.log = append(o.log, s)
	o.mu.Unlock()
}

func (o *orderModel) Stream(ctx context.Context, req providers.Request, fn providers.StreamFunc) (providers.Response, error) {
	o.note("start " + req.Tag)
	var once sync.Once
	return o.inner.Stream(ctx, req, func(d providers.Delta) error {
		once.Do(func() { o.note("answer " + req.Tag) })
		return fn(d)
	})
}

// TestStaggeredStages: with StaggerMinTokens set, each concurrent stage
// whose shared prefix is long enough starts one call, and the other five
// only after that call's first delta (correct code always passes; code
// that does not wait fails in all five stages only by a run of luck). With
// it off, or with a prefix shorter than the setting, the six are sent at
// once: the scripted model answers them only when all six are open.
func TestStaggeredStages(t *testing.T) {
	t.Parallel()
	for _, min := range []int{1, 0, 1 << 30} {
		m := newScripted()
		if min != 1 {
			for _, stage := range []string{StageIntro, StagePhoto, StageKeywords, StageVoting, StageCards} {
				m.barrier[stage] = 6
			}
		}
		o := &orderModel{inner: m}
		cfg := testConfig()
		cfg.StaggerMinTokens = min
		if _, err := runSession(t, cfg, testDeps(o, newMemStore()), &fakeConv{}, Start{Topic: "kites", Image: []byte("p")}); err != nil {
			t.Fatal(err)
		}
		staggered := 0
		for _, stage := range []string{StageIntro, StagePhoto, StageKeywords, StageVoting, StageCards} {
			var starts []int
			answered := map[string]int{}
			for i, l := range o.log {
				if strings.HasPrefix(l, "start "+stage+"/") {
					starts = append(starts, i)
				}
				if strings.HasPrefix(l, "answer "+stage+"/") {
					answered[strings.TrimPrefix(l, "answer ")] = i
				}
			}
			if len(starts) != 6 {
				t.Fatalf("%s: %d calls", stage, len(starts))
			}
			firstTag := strings.TrimPrefix(o.log[starts[0]], "start ")
			if answered[firstTag] < starts[1] {
				staggered++
			}
		}
		if min == 1 && staggered != 5 {
			t.Errorf("StaggerMinTokens=%d: %d of 5 stages waited for the first answer", min, staggered)
		}
	}
}
