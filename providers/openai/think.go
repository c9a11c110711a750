package openai

import "strings"

const (
	openTag  = "<think>"
	closeTag = "</think>"
)

// thinkFilter removes <think>…</think> blocks from streamed content, even
// when a tag is split across chunks. A bare </think> (no opening tag) means
// that everything before it was reasoning.
type thinkFilter struct {
	buf     string
	inThink bool
}

// thinkOut is what one chunk of content turned into.
type thinkOut struct {
	Text, Reasoning string
	// BareClose is set when a </think> without <think> arrived: text
	// already emitted was reasoning, and the caller must withdraw it.
	BareClose bool
}

func (f *thinkFilter) write(s string) thinkOut {
	f.buf += s
	var out thinkOut
	var text, reason strings.Builder
	for f.buf != "" {
		if f.inThink {
			if i := strings.Index(f.buf, closeTag); i >= 0 {
				reason.WriteString(f.buf[:i])
				f.buf, f.inThink = f.buf[i+len(closeTag):], false
				continue
			}
			keep := partialSuffix(f.buf, closeTag)
			reason.WriteString(f.buf[:len(f.buf)-keep])
			f.buf = f.buf[len(f.buf)-keep:]
			break
		}
		o, c := strings.Index(f.buf, openTag), strings.Index(f.buf, closeTag)
		switch {
		case c >= 0 && (o < 0 || c < o):
			// Bare close: all text so far, emitted or not, was reasoning.
			reason.WriteString(text.String())
			reason.WriteString(f.buf[:c])
			text.Reset()
			out.BareClose = true
			f.buf = f.buf[c+len(closeTag):]
		case o >= 0:
			text.WriteString(f.buf[:o])
			f.buf, f.inThink = f.buf[o+len(openTag):], true
		default:
			keep := max(partialSuffix(f.buf, openTag), partialSuffix(f.buf, closeTag))
			text.WriteString(f.buf[:len(f.buf)-keep])
			f.buf = f.buf[len(f.buf)-keep:]
			out.Text, out.Reasoning = text.String(), reason.String()
			return out
		}
	}
	out.Text, out.Reasoning = text.String(), reason.String()
	return out
}

// flush returns what is left at the end of the stream.
func (f *thinkFilter) flush() thinkOut {
	s := f.buf
	f.buf = ""
	if f.inThink {
		return thinkOut{Reasoning: s}
	}
	return thinkOut{Text: s}
}

// partialSuffix returns the length of the longest suffix of s that is a
// proper prefix of tag.
func partialSuffix(s, tag string) int {
	for n := min(len(tag)-1, len(s)); n > 0; n-- {
		if strings.HasSuffix(s, tag[:n]) {
			return n
		}
	}
	return 0
}
