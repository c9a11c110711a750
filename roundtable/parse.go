package roundtable

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

var (
	thinkBlock = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<think>.*?</think>`) })
	fenced     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("(?s)```(?:json|JSON)?\\s*(.*?)```") })
	listMarker = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*(?:[-*•·]|\d+[.)、]|[（(]?\d+[)）])\s*`) })
	labelLine  = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)^\s*(?:keywords?|关键词|设计要素|votes?|投票)\s*[:：]\s*`)
	})
)

// StripThink removes <think> blocks, and everything before a bare </think>.
// The result is a copy of exactly its length: it is kept in the transcript,
// and a streamed reply's buffer can be twice the size of its text.
func StripThink(s string) string {
	if !strings.Contains(s, "<think>") && !strings.Contains(s, "</think>") {
		return strings.Clone(strings.TrimSpace(s)) // nothing to strip: no regexp pass
	}
	s = thinkBlock().ReplaceAllString(s, "")
	if i := strings.LastIndex(s, "</think>"); i >= 0 {
		s = s[i+len("</think>"):]
	}
	if i := strings.Index(s, "<think>"); i >= 0 { // unterminated: reasoning to the end
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// ParseKeywords extracts a keyword list from a model reply: a JSON array
// (bare, fenced or embedded in prose, of strings or of objects with a
// "keyword"/"name" field), an object holding such an array, a "Keywords:"
// line, a bulleted or numbered list, or a comma-separated line (ASCII and CJK
// commas). It returns at most max unique keywords (max ≤ 0: no cap).
func ParseKeywords(reply string, max int) []string {
	reply = StripThink(reply)
	var out []string
	if kw, ok := jsonKeywords(reply); ok {
		out = kw
	} else {
		out = textKeywords(reply)
	}
	return Dedupe(out, max)
}

func jsonKeywords(s string) ([]string, bool) {
	candidates := []string{s}
	for _, m := range fenced().FindAllStringSubmatch(s, -1) {
		candidates = append(candidates, m[1])
	}
	if i, j := strings.Index(s, "["), strings.LastIndex(s, "]"); i >= 0 && j > i {
		candidates = append(candidates, s[i:j+1])
	}
	if i, j := strings.Index(s, "{"), strings.LastIndex(s, "}"); i >= 0 && j > i {
		candidates = append(candidates, s[i:j+1])
	}
	for _, c := range candidates {
		var v any
		if err := json.Unmarshal([]byte(strings.TrimSpace(c)), &v); err != nil {
			continue
		}
		if kw := keywordsFromJSON(v); len(kw) > 0 {
			return kw, true
		}
	}
	return nil, false
}

func keywordsFromJSON(v any) []string {
	switch t := v.(type) {
	case []any:
		var out []string
		for _, e := range t {
			switch e := e.(type) {
			case string:
				out = append(out, e)
			case float64:
				out = append(out, strings.TrimSpace(strings.TrimRight(strings.TrimRight(jsonNumber(e), "0"), ".")))
			case map[string]any:
				for _, k := range []string{"keyword", "name", "word", "关键词", "text"} {
					if s, ok := e[k].(string); ok {
						out = append(out, s)
						break
					}
				}
			}
		}
		return out
	case map[string]any:
		for _, k := range []string{"keywords", "votes", "vote", "关键词", "items", "result"} {
			if inner, ok := t[k]; ok {
				return keywordsFromJSON(inner)
			}
		}
		for _, inner := range t { // any array value
			if arr, ok := inner.([]any); ok {
				return keywordsFromJSON(arr)
			}
		}
	}
	return nil
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func textKeywords(s string) []string {
	lines := strings.Split(s, "\n")
	// A labelled line wins: "Keywords: a, b, c".
	for _, l := range lines {
		if loc := labelLine().FindStringIndex(l); loc != nil {
			if kw := splitList(l[loc[1]:]); len(kw) > 0 {
				return kw
			}
		}
	}
	var listed []string
	for _, l := range lines {
		if listMarker().MatchString(l) {
			item := listMarker().ReplaceAllString(l, "")
			// "- keyword: reason" → keyword
			if i := strings.IndexAny(item, ":：—"); i > 0 {
				item = item[:i]
			}
			listed = append(listed, item)
		}
	}
	if len(listed) > 0 {
		return listed
	}
	// The shortest non-empty line that looks like a list.
	for _, l := range lines {
		if strings.ContainsAny(l, ",，、;；") {
			return splitList(l)
		}
	}
	return splitList(s)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '\n' || r == '|'
	})
}

// CleanKeyword trims spaces, quotes, brackets and trailing punctuation, and
// rejects things that are not keywords (empty, or longer than 40 runes).
func CleanKeyword(s string) (string, bool) {
	s = strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("\"'`“”‘’「」『』《》[]【】()（）*#.。!！?？:：", r)
	})
	if s == "" || utf8.RuneCountInString(s) > 40 {
		return "", false
	}
	return s, true
}

// Key is the comparison form of a keyword (case- and width-insensitive).
func Key(s string) string {
	s, _ = CleanKeyword(s)
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// Dedupe cleans keywords and keeps the first of each, up to max (≤0: all).
func Dedupe(in []string, max int) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range in {
		c, ok := CleanKeyword(k)
		if !ok || seen[Key(c)] {
			continue
		}
		seen[Key(c)] = true
		out = append(out, c)
		if max > 0 && len(out) == max {
			break
		}
	}
	return out
}

// ParseVote reads a ballot: keywords chosen from candidates (matched
// case-insensitively, then by containment), at most max, with reasons when
// the reply gives them as [{"keyword":…, "reason":…}] or "kw: reason" lines.
func ParseVote(reply string, candidates []string, max int) ([]string, map[string]string) {
	reply = StripThink(reply)
	reasons := map[string]string{}
	raw := ParseKeywords(reply, 0)
	if objs, ok := voteObjects(reply); ok {
		raw = raw[:0]
		for _, o := range objs {
			raw = append(raw, o[0])
			if o[1] != "" {
				reasons[Key(o[0])] = o[1]
			}
		}
	} else {
		for _, l := range strings.Split(reply, "\n") {
			l = listMarker().ReplaceAllString(l, "")
			if i := strings.IndexAny(l, ":：—"); i > 0 {
				reasons[Key(l[:i])] = strings.TrimSpace(strings.TrimLeft(l[i:], ":：— "))
			}
		}
	}
	byKey := map[string]string{}
	for _, c := range candidates {
		byKey[Key(c)] = c
	}
	chosen := map[string]bool{}
	var out []string
	why := map[string]string{}
	for _, r := range raw {
		c, ok := byKey[Key(r)]
		if !ok {
			c = containing(candidates, r)
		}
		if c == "" || chosen[c] {
			continue
		}
		chosen[c] = true
		out = append(out, c)
		if reason := reasons[Key(r)]; reason != "" {
			why[c] = reason
		}
		if len(out) == max {
			break
		}
	}
	return out, why
}

func voteObjects(s string) ([][2]string, bool) {
	i, j := strings.Index(s, "["), strings.LastIndex(s, "]")
	if i < 0 || j < i {
		return nil, false
	}
	var objs []map[string]any
	if json.Unmarshal([]byte(s[i:j+1]), &objs) != nil || len(objs) == 0 {
		return nil, false
	}
	var out [][2]string
	for _, o := range objs {
		kw, _ := o["keyword"].(string)
		reason, _ := o["reason"].(string)
		if kw != "" {
			out = append(out, [2]string{kw, reason})
		}
	}
	return out, len(out) > 0
}

// containing finds the candidate that contains r or is contained in it.
func containing(candidates []string, r string) string {
	k := Key(r)
	if utf8.RuneCountInString(k) < 2 {
		return ""
	}
	for _, c := range candidates {
		ck := Key(c)
		if strings.Contains(ck, k) || strings.Contains(k, ck) {
			return c
		}
	}
	return ""
}
