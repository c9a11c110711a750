package telegramfake

import (
	"errors"
	"testing"
	"time"
)

func TestMessageIDsArePerChatAndRepliesNest(t *testing.T) {
	var b messageBook
	now := time.Now()
	chat := &Chat{ID: 5, Type: "private"}
	b.add(&Message{ChatID: 5, Text: "one"}, chat, now, nil)
	b.add(&Message{ChatID: 6, Text: "elsewhere"}, nil, now, nil)
	var seen map[string]any
	shown := b.add(&Message{ChatID: 5, Text: "two", ReplyTo: 1}, chat, now, func(s map[string]any) { seen = s })
	if shown["message_id"] != 2 || seen["message_id"] != 2 {
		t.Errorf("second message of chat 5 shown as %v (then saw %v), want ID 2", shown["message_id"], seen["message_id"])
	}
	reply, _ := shown["reply_to_message"].(map[string]any)
	if reply["message_id"] != 1 || reply["text"] != "one" {
		t.Errorf("reply_to_message = %v", reply)
	}
	if ms := b.list(6); len(ms) != 1 || ms[0].ID != 1 {
		t.Errorf("chat 6 = %+v, want its own ID 1", ms)
	}
}

func TestEditChecksInTelegramsOrderAndAdmitsLast(t *testing.T) {
	var b messageBook
	now := time.Now()
	b.add(&Message{ChatID: 5, Token: tok, Text: "hi", History: []string{"hi"}}, nil, now, nil)
	refused := errors.New("Bad Request: message is too long")
	for _, tc := range []struct {
		name    string
		e       textEdit
		err     error
		ra      int
		admits  int
		history int
	}{
		{"not found beats a refused text", textEdit{chatID: 5, id: 9, token: tok, refused: refused}, errEditNotFound, 0, 0, 1},
		{"another bot's message is not found", textEdit{chatID: 5, id: 1, token: otherTok, text: "x"}, errEditNotFound, 0, 0, 1},
		{"refused text", textEdit{chatID: 5, id: 1, token: tok, text: "x", refused: refused}, refused, 0, 0, 1},
		{"not modified", textEdit{chatID: 5, id: 1, token: tok, text: "hi"}, errNotModified, 0, 0, 1},
		{"flood limited", textEdit{chatID: 5, id: 1, token: tok, text: "new"}, nil, 3, 1, 1},
		{"applied", textEdit{chatID: 5, id: 1, token: tok, text: "new"}, nil, 0, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admits := 0
			shown, ra, err := b.edit(tc.e, nil, now, func() int { admits++; return tc.ra })
			if err != tc.err || ra != tc.ra || admits != tc.admits {
				t.Errorf("edit = %v, %d after %d admits; want %v, %d after %d", err, ra, admits, tc.err, tc.ra, tc.admits)
			}
			if got := len(b.list(5)[0].History); got != tc.history {
				t.Errorf("history of %d texts, want %d", got, tc.history)
			}
			if (shown != nil) != (tc.err == nil && tc.ra == 0) {
				t.Errorf("shown = %v", shown)
			}
		})
	}
}
