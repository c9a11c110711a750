package roundtable

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/tableround/tableround/transcript"
)

// Consensus counts ballots (in seat order) and returns the keywords that
// reach ⌈threshold × voters⌉ votes, ordered by votes then first mention.
// When fewer than minPass pass, the rest is filled by vote count, then by
// candidate order, so the result is never empty while there is any candidate.
// At most max keywords are returned.
func Consensus(ballots [][]string, candidates []string, threshold float64, minPass, max int) transcript.VoteResult {
	voters := 0
	counts := map[string]int{}
	first := map[string]int{}
	order := 0
	note := func(k string) {
		if _, ok := first[k]; !ok {
			first[k] = order
			order++
		}
	}
	for _, b := range ballots {
		if len(b) == 0 {
			continue
		}
		voters++
		for _, k := range Dedupe(b, 0) {
			counts[k]++
			note(k)
		}
	}
	for _, c := range candidates {
		note(c)
	}
	need := int(math.Ceil(threshold * float64(voters)))
	if need < 1 {
		need = 1
	}
	ranked := make([]string, 0, len(first))
	for k := range first {
		ranked = append(ranked, k)
	}
	sort.Slice(ranked, func(i, j int) bool {
		a, b := ranked[i], ranked[j]
		if counts[a] != counts[b] {
			return counts[a] > counts[b]
		}
		return first[a] < first[b]
	})
	res := transcript.VoteResult{Counts: counts, Threshold: need}
	for _, k := range ranked {
		if counts[k] >= need {
			res.Keywords = append(res.Keywords, k)
		}
	}
	if len(res.Keywords) < minPass {
		for _, k := range ranked {
			if len(res.Keywords) >= minPass {
				break
			}
			if !slices.Contains(res.Keywords, k) {
				res.Keywords = append(res.Keywords, k)
				res.Filled = true
			}
		}
	}
	if max > 0 && len(res.Keywords) > max {
		res.Keywords = res.Keywords[:max]
	}
	return res
}

// Derange assigns every seat a new role type different from its own when
// that is possible (no role type held by more than half the seats), as a
// permutation of the roles at the table; otherwise seats that would keep
// their role take another role type of the pack. It always terminates.
// roles[i] is seat i's current role; allRoles lists the pack's role types.
func Derange(roles []string, allRoles []string, rng *rand.Rand) []string {
	n := len(roles)
	if n == 0 {
		return nil
	}
	// Group seat indexes by role, biggest group first (ties at random).
	groups := map[string][]int{}
	var names []string
	for i, r := range roles {
		if _, ok := groups[r]; !ok {
			names = append(names, r)
		}
		groups[r] = append(groups[r], i)
	}
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	sort.SliceStable(names, func(i, j int) bool { return len(groups[names[i]]) > len(groups[names[j]]) })
	var idx []int
	for _, r := range names {
		g := groups[r]
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		idx = append(idx, g...)
	}
	// Shifting the grouped order by the biggest group's size moves every
	// seat out of its own group whenever that group is at most half.
	shift := len(groups[names[0]])
	out := make([]string, n)
	for i, seat := range idx {
		out[seat] = roles[idx[(i+shift)%n]]
	}
	others := slices.Clone(allRoles)
	sort.Strings(others)
	for i := range out {
		if out[i] != roles[i] {
			continue
		}
		for _, r := range others {
			if r != roles[i] {
				out[i] = r
				break
			}
		}
	}
	return out
}

// ParseKJ reads the moderator's affinity grouping: JSON {"core": …,
// "groups": [{"name": …, "keywords": […]}]} (bare, fenced or in prose), or
// "Group: a, b" lines. Keywords not in any group are gathered under other;
// keywords the model invented are dropped. The result is never empty when
// keywords is not.
func ParseKJ(reply string, keywords []string, other string) transcript.KJ {
	reply = StripThink(reply)
	var kj transcript.KJ
	if i, j := strings.Index(reply, "{"), strings.LastIndex(reply, "}"); i >= 0 && j > i {
		_ = json.Unmarshal([]byte(reply[i:j+1]), &kj)
	}
	if len(kj.Groups) == 0 {
		for _, l := range strings.Split(reply, "\n") {
			l = listMarker().ReplaceAllString(l, "")
			if k := strings.IndexAny(l, ":："); k > 0 {
				name := strings.Trim(strings.TrimSpace(l[:k]), "*#【】[] ")
				kj.Groups = append(kj.Groups, transcript.KJGroup{Name: name, Keywords: splitList(l[k:])})
			}
		}
	}
	byKey := map[string]string{}
	for _, k := range keywords {
		byKey[Key(k)] = k
	}
	used := map[string]bool{}
	var groups []transcript.KJGroup
	for _, g := range kj.Groups {
		var kws []string
		for _, k := range g.Keywords {
			c, ok := byKey[Key(k)]
			if !ok {
				c = containing(keywords, k)
			}
			if c != "" && !used[c] {
				used[c] = true
				kws = append(kws, c)
			}
		}
		name, _ := CleanKeyword(g.Name)
		if len(kws) > 0 && name != "" {
			groups = append(groups, transcript.KJGroup{Name: name, Keywords: kws})
		}
	}
	var rest []string
	for _, k := range keywords {
		if !used[k] {
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		groups = append(groups, transcript.KJGroup{Name: other, Keywords: rest})
	}
	core, _ := CleanKeyword(kj.Core)
	return transcript.KJ{Core: core, Groups: groups}
}
