package bot

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// RuneLen counts Unicode code points (Discord's measure of content length).
func RuneLen(s string) int { return utf8.RuneCountInString(s) }

// UTF16Len counts UTF-16 code units (Telegram's measure of text length).
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

const fence = "```"

// Split cuts text into parts of at most limit (measured by measure, RuneLen
// when nil), preferring paragraph breaks, then line breaks, then sentence
// ends, then spaces. A part that ends inside a ``` code block closes the
// block and the next part reopens it, so Markdown stays intact.
func Split(text string, limit int, measure func(string) int) []string {
	if measure == nil {
		measure = RuneLen
	}
	if limit < 16 {
		limit = 16
	}
	var parts []string
	reopen := ""
	for {
		text = reopen + text
		if measure(text) <= limit {
			return append(parts, text)
		}
		cut := cutPoint(text, limit, measure)
		if strings.Count(text[:cut], fence)%2 == 1 { // leave room to close the open fence
			cut = cutPoint(text, limit-len(fence)-1, measure)
		}
		head, tail := strings.TrimRight(text[:cut], " \n"), strings.TrimLeft(text[cut:], " \n")
		reopen = ""
		if strings.Count(head, fence)%2 == 1 {
			lang := fenceLang(head)
			head += "\n" + fence
			reopen = fence + lang + "\n"
		}
		if head == "" { // cannot happen with limit ≥ 16, but never loop forever
			head, tail = text[:cut], text[cut:]
		}
		parts = append(parts, head)
		text = tail
		if text == "" {
			return parts
		}
	}
}

// cutPoint returns the byte index at which to cut text so that text[:i]
// measures at most limit, at the best boundary available.
func cutPoint(text string, limit int, measure func(string) int) int {
	// Largest prefix (at rune boundaries) that fits.
	max := 0
	n := 0
	for i, r := range text {
		n += measure(string(r))
		if n > limit {
			break
		}
		max = i + utf8.RuneLen(r)
	}
	if max == 0 {
		_, size := utf8.DecodeRuneInString(text)
		return size
	}
	window := text[:max]
	minUseful := max / 3 // don't make tiny parts for a far-away boundary
	for _, sep := range []string{"\n\n", "\n"} {
		if i := strings.LastIndex(window, sep); i > minUseful {
			return i + len(sep)
		}
	}
	if i := lastSentenceEnd(window); i > minUseful {
		return i
	}
	if i := strings.LastIndexAny(window, " \t"); i > minUseful {
		return i + 1
	}
	return max
}

// lastSentenceEnd finds the end of the last sentence in s (after ". ", "! ",
// "? " or a CJK full stop), returning the index just after it, or -1.
func lastSentenceEnd(s string) int {
	best := -1
	for _, p := range []string{". ", "! ", "? ", "。", "！", "？", "；"} {
		if i := strings.LastIndex(s, p); i >= 0 && i+len(p) > best {
			best = i + len(p)
		}
	}
	return best
}

// fenceLang returns the language tag of the last opened fence in s.
func fenceLang(s string) string {
	i := strings.LastIndex(s, fence)
	rest := s[i+len(fence):]
	if j := strings.IndexByte(rest, '\n'); j >= 0 {
		return strings.TrimSpace(rest[:j])
	}
	return ""
}
