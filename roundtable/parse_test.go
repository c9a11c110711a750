package roundtable

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestParseKeywords(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		max      int
		want     []string
	}{
		{"json", `["red paper", "cloud motif", "tassel"]`, 10, []string{"red paper", "cloud motif", "tassel"}},
		{"fenced json", "Here you go:\n```json\n[\"a\", \"b\"]\n```", 10, []string{"a", "b"}},
		{"json in prose", `My picks are ["窗花", "对称"] for sure.`, 10, []string{"窗花", "对称"}},
		{"objects", `[{"keyword":"lotus","reason":"x"},{"name":"fish"}]`, 10, []string{"lotus", "fish"}},
		{"wrapped object", `{"keywords": ["kite", "bamboo"]}`, 10, []string{"kite", "bamboo"}},
		{"think block", "<think>maybe [\"wrong\"]</think>[\"right\"]", 10, []string{"right"}},
		{"bare close think", "reasoning [\"no\"] </think> [\"yes\"]", 10, []string{"yes"}},
		{"label line", "Some story.\nKeywords: lattice, plum blossom，red", 10, []string{"lattice", "plum blossom", "red"}},
		{"cjk label", "故事……\n关键词：窗花、对称、红色", 10, []string{"窗花", "对称", "红色"}},
		{"bullets", "- Symmetry: because\n- Red paper\n* Tassel", 10, []string{"Symmetry", "Red paper", "Tassel"}},
		{"numbered", "1. lotus\n2) carp\n3、云纹", 10, []string{"lotus", "carp", "云纹"}},
		{"cap and dedupe", `["A", "a", "b", "c", "d"]`, 3, []string{"A", "b", "c"}},
		{"quotes debris", `"red", 'blue', 【green】`, 10, []string{"red", "blue", "green"}},
		{"non-string json", `[1, "two", null]`, 10, []string{"1", "two"}},
		{"empty", "", 10, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParseKeywords(c.in, c.max)
			if !slices.Equal(got, c.want) {
				t.Fatalf("ParseKeywords(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestParseVote(t *testing.T) {
	t.Parallel()
	cands := []string{"red paper", "cloud motif", "Tassel", "symmetry", "蝴蝶"}
	cases := []struct {
		name, in string
		want     []string
		reason   string
	}{
		{"objects", `[{"keyword":"red paper","reason":"classic"},{"keyword":"tassel","reason":"fun"}]`, []string{"red paper", "Tassel"}, "classic"},
		{"plain list", "red paper, symmetry", []string{"red paper", "symmetry"}, ""},
		{"cjk commas and containment", "蝴蝶纹样，cloud", []string{"蝴蝶", "cloud motif"}, ""},
		{"invented keywords dropped", `["dragon", "symmetry"]`, []string{"symmetry"}, ""},
		{"reason lines", "- red paper: it is traditional\n- symmetry: balance", []string{"red paper", "symmetry"}, "it is traditional"},
		{"capped", `["red paper","cloud motif","tassel","symmetry","蝴蝶"]`, []string{"red paper", "cloud motif", "Tassel"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			max := 5
			if c.name == "capped" {
				max = 3
			}
			got, why := ParseVote(c.in, cands, max)
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			if c.reason != "" && why[c.want[0]] != c.reason {
				t.Fatalf("reason = %q, want %q", why[c.want[0]], c.reason)
			}
		})
	}
}

func TestConsensus(t *testing.T) {
	t.Parallel()
	cands := []string{"a", "b", "c", "d", "e"}
	cases := []struct {
		name    string
		ballots [][]string
		want    []string
		filled  bool
	}{
		{"threshold of six voters is four", [][]string{{"a", "b"}, {"a", "b"}, {"a", "b"}, {"a", "c"}, {"c"}, {"d"}}, []string{"a", "b", "c"}, true},
		{"clear consensus", [][]string{{"a", "b", "c"}, {"a", "b", "c"}, {"a", "b", "c"}, {"a", "b", "c"}, {"d"}, {"e"}}, []string{"a", "b", "c"}, false},
		{"no agreement is never empty", [][]string{{"e"}, {"d"}, {"c"}}, []string{"e", "d", "c"}, true},
		{"no votes at all", nil, []string{"a", "b", "c"}, true},
		{"ties by first mention", [][]string{{"c", "b"}, {"b", "c"}}, []string{"c", "b", "a"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Consensus(c.ballots, cands, 0.6, 3, 10)
			if !slices.Equal(r.Keywords, c.want) || r.Filled != c.filled {
				t.Fatalf("got %q filled=%v, want %q filled=%v", r.Keywords, r.Filled, c.want, c.filled)
			}
		})
	}
	if r := Consensus(nil, nil, 0.6, 3, 10); len(r.Keywords) != 0 {
		t.Fatalf("no candidates: %q", r.Keywords)
	}
}

func TestDerange(t *testing.T) {
	t.Parallel()
	all := []string{"craftsman", "consumer", "manufacturer", "designer"}
	papercut := []string{"craftsman", "consumer", "manufacturer", "consumer", "designer", "consumer"}
	for seed := uint64(0); seed < 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed))
		got := Derange(papercut, all, rng)
		for i := range got {
			if got[i] == papercut[i] {
				t.Fatalf("seed %d: seat %d kept %s: %v", seed, i, got[i], got)
			}
			if (papercut[i] == "consumer") == (got[i] == "consumer") {
				t.Fatalf("seed %d: makers and buyers did not swap: %v", seed, got)
			}
		}
		// A permutation of the table's roles.
		a, b := slices.Clone(papercut), slices.Clone(got)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("not a permutation: %v", got)
		}
	}
	// Impossible to derange within the table (4 of 5 are consumers): still
	// terminates and nobody keeps their role.
	crowd := []string{"consumer", "consumer", "consumer", "consumer", "designer"}
	got := Derange(crowd, all, rand.New(rand.NewPCG(1, 2)))
	for i := range got {
		if got[i] == crowd[i] {
			t.Fatalf("seat %d kept its role: %v", i, got)
		}
	}
	if got := Derange([]string{"x", "x"}, []string{"x"}, rand.New(rand.NewPCG(1, 2))); len(got) != 2 {
		t.Fatalf("single role type: %v", got)
	}
}

func TestParseKJ(t *testing.T) {
	t.Parallel()
	kws := []string{"red paper", "cloud motif", "tassel", "gift box"}
	kj := ParseKJ("```json\n{\"core\":\"everyday luck\",\"groups\":[{\"name\":\"Look\",\"keywords\":[\"red paper\",\"cloud motif\",\"dragon\"]}]}\n```", kws, "Other")
	if kj.Core != "everyday luck" || len(kj.Groups) != 2 || kj.Groups[0].Name != "Look" ||
		!slices.Equal(kj.Groups[0].Keywords, []string{"red paper", "cloud motif"}) ||
		!slices.Equal(kj.Groups[1].Keywords, []string{"tassel", "gift box"}) {
		t.Fatalf("kj = %+v", kj)
	}
	lines := ParseKJ("Form: tassel, gift box\nLook: red paper", kws, "Other")
	if len(lines.Groups) != 3 || lines.Groups[0].Name != "Form" {
		t.Fatalf("line format: %+v", lines)
	}
	garbage := ParseKJ("I cannot do that.", kws, "Other")
	if len(garbage.Groups) != 1 || len(garbage.Groups[0].Keywords) != 4 {
		t.Fatalf("garbage must still group everything: %+v", garbage)
	}
}

func TestBuildImagePrompt(t *testing.T) {
	t.Parallel()
	p := BuildImagePrompt(ImageBrief{Style: "paper-cut", Topic: "bookmark", Keywords: []string{"cloud motif", "red"},
		Concept: "A bookmark\nwith a tassel.", Cards: []string{"Name: X\nElements: lotus, fish\nMaterials: rice paper", "**Form:** lantern"},
		People: []string{"blue"}})
	for _, want := range []string{"paper-cut", "bookmark", "cloud motif, red", "blue", "A bookmark with a tassel.", "lotus, fish", "rice paper", "lantern"} {
		if !strings.Contains(p, want) {
			t.Fatalf("prompt lacks %q: %s", want, p)
		}
	}
}

func TestPackValidate(t *testing.T) {
	t.Parallel()
	for _, name := range BuiltinPacks() {
		if _, err := LoadPack(name); err != nil {
			t.Fatalf("built-in pack %s: %v", name, err)
		}
	}
	_, err := ParsePack([]byte(`{"schema":1,"name":"x","roles":{"a":{},"b":{}},"seats":[{"id":"Bad ID","role":"a","name":{"en":"Clyde"}},{"id":"ok","role":"zzz","name":{"en":"B"}}]}`))
	for _, want := range []string{"seats[0].id", "seats[0].name", "seats[1].role"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v should name %s", err, want)
		}
	}
	if _, err := ParsePack([]byte(`{"schema":1,"nmae":"typo"}`)); err == nil || !strings.Contains(err.Error(), "nmae") {
		t.Fatalf("unknown field not reported: %v", err)
	}
}

func TestStageOfPrompt(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"vision": "vision", "sum": "summary", "kj": StageKJ, "intro": StageIntro, "story": StagePhoto,
		"keywords": StageKeywords, "vote": StageVoting, "switch": StageSwitch, "workshop": StageWorkshop,
		"card": StageCards, "final": StageFinal, "discuss": StageDiscussion,
	} {
		p := phrases["en"][key]
		p = strings.ReplaceAll(strings.ReplaceAll(p, "%d", "1"), "%s", "x")
		if got := StageOfPrompt(p); got != want {
			t.Errorf("prompt %q recognised as %q, want %q", key, got, want)
		}
	}
}

// TestEstimateTokensFastPath keeps firstCJK below every rune of the four
// scripts, so skipping the table lookups below it changes no count.
func TestEstimateTokensFastPath(t *testing.T) {
	t.Parallel()
	for _, tab := range []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul} {
		lo := rune(-1)
		if len(tab.R16) > 0 {
			lo = rune(tab.R16[0].Lo)
		} else if len(tab.R32) > 0 {
			lo = rune(tab.R32[0].Lo)
		}
		if lo < firstCJK {
			t.Errorf("a script starts at %U, below firstCJK %U", lo, firstCJK)
		}
	}
	for _, tc := range []struct {
		in   string
		want int
	}{{"", 1}, {"abcdefgh", 3}, {"héllo wörld", 3}, {"圆桌会议", 5}, {"ひらがなカタカナ한국", 11}, {"mixed 圆桌 text", 2 + 11/4 + 1}} {
		if got := EstimateTokens(tc.in); got != tc.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestStripThink(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  plain reply \n":                        "plain reply",
		"<think>hmm</think> the answer":           "the answer",
		"a <think>x</think>b<think>y</think> c":   "a b c",
		"reasoning leaked</think>\nthe answer":    "the answer",
		"the answer <think>cut off mid-reasoning": "the answer",
		"": "",
	} {
		if got := StripThink(in); got != want {
			t.Errorf("StripThink(%q) = %q, want %q", in, got, want)
		}
	}
}
