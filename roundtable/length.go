package roundtable

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// stageWords is the length each speaking stage's prompt asks for, in
// English words (the Chinese prompts ask for about 1.5 characters a word).
var stageWords = map[string]int{
	StageIntro: 100, StagePhoto: 130, StageDiscussion: 120, StageKeywords: 60, StageVoting: 120,
	StageSwitch: 110, StageWorkshop: 130, StageCards: 90, StageFinal: 130,
}

// maxTokensFor is the token cap sent with a stage's calls, from its word
// limit: about two tokens a word (a Chinese character is about one token)
// plus room for a short reasoning preamble.
func maxTokensFor(stage string) int {
	return stageWords[stage]*2 + 200
}

// jsonStages answer with JSON: a reply over its limit is stopped but not
// cut at a sentence or marked, which would break what is parsed.
var jsonStages = map[string]bool{StageKeywords: true, StageVoting: true}

// speechLimit is the length, in units (a word, or one CJK character), past
// which a stage's speech is cut: twice the words asked for, which leaves
// the Chinese allowance room too (four times for JSON replies). 0 means no
// limit.
func speechLimit(stage string) int {
	if jsonStages[stage] {
		return 4 * stageWords[stage]
	}
	return 2 * stageWords[stage]
}

// errOverrun stops a stream that went past its speech limit.
var errOverrun = errors.New("roundtable: speech over its length limit")

// units counts words, each CJK character counting as one.
func units(s string) int {
	n, inWord := 0, false
	for _, r := range s {
		switch {
		case isCJK(r):
			n++
			inWord = false
		case unicode.IsSpace(r):
			inWord = false
		default:
			if !inWord {
				n++
			}
			inWord = true
		}
	}
	return n
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// overLimit reports whether s has more than limit units, cheaply for short
// text (a unit is at least one byte).
func overLimit(s string, limit int) bool {
	return limit > 0 && len(s) > limit && units(s) > limit
}

// cutSpeech cuts text to at most limit units at the last sentence end
// before the limit (a word boundary with "…" when no sentence ends in the
// latter two thirds). ok is false when text is within the limit.
func cutSpeech(text string, limit int) (cut string, ok bool) {
	if !overLimit(text, limit) {
		return text, false
	}
	n, inWord, end := 0, false, len(text)
	for i, r := range text {
		if isCJK(r) || (!unicode.IsSpace(r) && !inWord) {
			if n == limit {
				end = i
				break
			}
			n++
		}
		inWord = !isCJK(r) && !unicode.IsSpace(r)
	}
	head := text[:end]
	if at := lastSentenceEnd(head); at >= len(head)/3 {
		return strings.TrimSpace(head[:at]), true
	}
	return strings.TrimRightFunc(head, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…", true
}

// lastSentenceEnd is the byte offset just after the last sentence end in s
// (., !, ? followed by a space or the end; 。！？; a line break), 0 if none.
func lastSentenceEnd(s string) int {
	best := 0
	for i, r := range s {
		w := utf8.RuneLen(r)
		switch r {
		case '。', '！', '？', '\n':
			best = i + w
		case '.', '!', '?':
			if next, _ := utf8.DecodeRuneInString(s[i+w:]); i+w == len(s) || unicode.IsSpace(next) {
				best = i + w
			}
		}
	}
	return best
}

// maxCarryRunes bounds what one speech carries into later prompts: about
// twice a 130-word speech. A speech longer than its limit is cut already;
// this bounds every turn, whatever stage wrote it.
const maxCarryRunes = 1600

// carried is the part of a speech kept in the transcript that later
// prompts include.
func carried(text string) string {
	if utf8.RuneCountInString(text) <= maxCarryRunes {
		return text
	}
	r := []rune(text)
	return string(r[:maxCarryRunes]) + "…"
}
