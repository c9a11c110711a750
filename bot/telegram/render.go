package telegram

import (
	"html"
	"strings"

	"github.com/tableround/tableround/bot"
)

// wordJoiner is put after '@' so that "@name" in model text never notifies
// anyone (DESIGN §9) while it still reads the same.
const wordJoiner = "\u2060"

// header is a persona's heading line in HTML: emoji, bold name and the
// role in italics. The moderator (the bot itself) has none.
func header(p bot.Persona) string {
	if p.Moderator || p.Name == "" {
		return ""
	}
	var b strings.Builder
	if p.Emoji != "" {
		b.WriteString(html.EscapeString(p.Emoji) + " ")
	}
	b.WriteString("<b>" + html.EscapeString(breakMentions(p.Name)) + "</b>")
	if p.Role != "" {
		b.WriteString(" · <i>" + html.EscapeString(breakMentions(p.Role)) + "</i>")
	}
	return b.String() + "\n"
}

// headerLen is the visible length of header(p) in UTF-16 units (what
// Telegram counts after parsing the HTML).
func headerLen(p bot.Persona) int {
	h := header(p)
	h = strings.NewReplacer("<b>", "", "</b>", "", "<i>", "", "</i>", "").Replace(h)
	return bot.UTF16Len(html.UnescapeString(h))
}

// body renders model or user text as Telegram HTML: mentions broken,
// everything escaped, and balanced **bold** turned into <b>. It never
// produces an unbalanced tag or a broken entity, whatever the input.
func body(text string) string {
	text = breakMentions(text)
	segs := strings.Split(text, "**")
	if len(segs)%2 == 0 { // an odd number of "**": leave them as typed
		return html.EscapeString(text)
	}
	var b strings.Builder
	for i, s := range segs {
		if i%2 == 1 && strings.TrimSpace(s) != "" {
			b.WriteString("<b>" + html.EscapeString(s) + "</b>")
			continue
		}
		if i%2 == 1 { // "****" or "** **": not bold, keep the text
			b.WriteString(html.EscapeString("**" + s + "**"))
			continue
		}
		b.WriteString(html.EscapeString(s))
	}
	return b.String()
}

// breakMentions puts a word joiner after every '@' that starts a name.
func breakMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '@' && i+1 < len(s) && isNameByte(s[i+1]) {
			b.WriteString(wordJoiner)
		}
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// render is a message as sent: the persona's header, then the body.
func render(p bot.Persona, kind bot.Kind, text string) string {
	switch kind {
	case bot.KindBanner:
		return "<b>" + body(text) + "</b>"
	case bot.KindBoard, bot.KindNotice:
		if p.Moderator {
			return body(text)
		}
	}
	return header(p) + body(text)
}

// truncateUTF16 cuts s to at most n UTF-16 units, adding "…" when cut.
func truncateUTF16(s string, n int) string {
	if bot.UTF16Len(s) <= n {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		l := bot.UTF16Len(string(r))
		if used+l > n-1 {
			break
		}
		b.WriteRune(r)
		used += l
	}
	return b.String() + "…"
}
