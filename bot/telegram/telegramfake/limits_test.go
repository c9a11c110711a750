package telegramfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	tok      = "7:limits-token"
	otherTok = "8:other-token"
	dm       = int64(42)
	group    = int64(-100)
)

// manualClock is the fake's clock in these tests: time moves only when a
// test advances it.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLimited(t *testing.T, l Limits) (*Server, *manualClock) {
	t.Helper()
	clk := &manualClock{t: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	s := New(Options{Limits: l, Now: clk.now})
	t.Cleanup(s.Close)
	s.AddBot(tok, "limits_bot")
	s.AddBot(otherTok, "other_bot")
	s.AddChat(Chat{ID: dm, Type: "private"})
	s.AddChat(Chat{ID: group, Type: "supergroup", Title: "g"})
	return s, clk
}

// callAPI calls a method with a JSON body and returns the status and body.
func callAPI(t *testing.T, s *Server, token, method string, body map[string]any) (int, string) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(s.URL()+"/bot"+token+"/"+method, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func send(t *testing.T, s *Server, token string, chat int64, text string) (int, string) {
	return callAPI(t, s, token, "sendMessage", map[string]any{"chat_id": chat, "text": text})
}

func edit(t *testing.T, s *Server, chat int64, id int, text string) (int, string) {
	return callAPI(t, s, tok, "editMessageText", map[string]any{"chat_id": chat, "message_id": id, "text": text})
}

func draft(t *testing.T, s *Server, text string) (int, string) {
	return callAPI(t, s, tok, "sendMessageDraft", map[string]any{"chat_id": dm, "draft_id": 5, "text": text})
}

// tooManyBody is Telegram's 429, word for word.
func tooManyBody(n int) string {
	return fmt.Sprintf(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, n, n)
}

func want429(t *testing.T, what string, code int, body string, retryAfter int) {
	t.Helper()
	if code != http.StatusTooManyRequests || body != tooManyBody(retryAfter) {
		t.Errorf("%s: got %d %s, want 429 %s", what, code, body, tooManyBody(retryAfter))
	}
}

func wantOK(t *testing.T, what string, code int, body string) {
	t.Helper()
	if code != http.StatusOK {
		t.Errorf("%s: got %d %s, want 200", what, code, body)
	}
}

func TestPrivateChatBurstThenOnePerSecond(t *testing.T) {
	s, clk := newLimited(t, TelegramLimits())
	for i := range 3 {
		c, b := send(t, s, tok, dm, fmt.Sprint("burst ", i))
		wantOK(t, "burst send", c, b)
	}
	c, b := send(t, s, tok, dm, "fourth")
	want429(t, "fourth send in the same second", c, b, 1)
	clk.advance(999 * time.Millisecond)
	c, b = send(t, s, tok, dm, "too soon")
	want429(t, "send before a second passed", c, b, 1)
	clk.advance(time.Millisecond)
	c, b = send(t, s, tok, dm, "a second later")
	wantOK(t, "send a second later", c, b)
	// The refused calls cost nothing: exactly one token came back.
	c, b = send(t, s, tok, dm, "again")
	want429(t, "send right after", c, b, 1)
	if n := s.Limited(); n != 3 {
		t.Errorf("Limited() = %d, want 3", n)
	}
	// Another bot in the same chat has its own budget.
	c, b = send(t, s, otherTok, dm, "other bot")
	wantOK(t, "other bot's send", c, b)
}

func TestGroupTwentyPerMinuteEditsIncluded(t *testing.T) {
	s, clk := newLimited(t, TelegramLimits())
	c, b := send(t, s, tok, group, "v0")
	wantOK(t, "send", c, b)
	// 19 edits a second apart: within the chat's pace, and with the send
	// they fill the group's minute.
	for i := 1; i <= 19; i++ {
		clk.advance(time.Second)
		c, b := edit(t, s, group, 1, fmt.Sprint("v", i))
		wantOK(t, fmt.Sprint("edit ", i), c, b)
	}
	clk.advance(time.Second) // 20 s after the send
	c, b = edit(t, s, group, 1, "v20")
	want429(t, "21st write in a minute (an edit)", c, b, 40)
	c, b = send(t, s, tok, group, "new")
	want429(t, "21st write in a minute (a send)", c, b, 40)
	clk.advance(40 * time.Second) // the send leaves the window
	c, b = edit(t, s, group, 1, "v20")
	wantOK(t, "edit after the window moved", c, b)
}

func TestPrivateEditsCountOption(t *testing.T) {
	for _, counted := range []bool{true, false} {
		t.Run(fmt.Sprint("counted=", counted), func(t *testing.T) {
			l := TelegramLimits()
			l.PrivateEditsCount = counted
			s, _ := newLimited(t, l)
			c, b := send(t, s, tok, dm, "v0")
			wantOK(t, "send", c, b)
			for i := 1; i <= 2; i++ {
				c, b := edit(t, s, dm, 1, fmt.Sprint("v", i))
				wantOK(t, "edit within the burst", c, b)
			}
			c, b = edit(t, s, dm, 1, "v3")
			if counted {
				want429(t, "edit past the burst", c, b, 1)
			} else {
				wantOK(t, "uncounted edit", c, b)
				c, b = send(t, s, tok, dm, "send")
				wantOK(t, "send after uncounted edits", c, b)
			}
		})
	}
}

func TestDraftsCountOption(t *testing.T) {
	for _, counted := range []bool{true, false} {
		t.Run(fmt.Sprint("counted=", counted), func(t *testing.T) {
			l := TelegramLimits()
			l.DraftsCount = counted
			s, _ := newLimited(t, l)
			for i := range 3 {
				c, b := draft(t, s, fmt.Sprint("d", i))
				wantOK(t, "draft within the burst", c, b)
			}
			c, b := draft(t, s, "d3")
			if counted {
				want429(t, "draft past the burst", c, b, 1)
				c, b = send(t, s, tok, dm, "final")
				want429(t, "send after drafts spent the chat's budget", c, b, 1)
			} else {
				wantOK(t, "uncounted draft", c, b)
				c, b = send(t, s, tok, dm, "final")
				wantOK(t, "send after uncounted drafts", c, b)
			}
		})
	}
}

func TestBotThirtyPerSecondAcrossChats(t *testing.T) {
	s, clk := newLimited(t, TelegramLimits())
	for i := range 31 {
		s.AddChat(Chat{ID: 1000 + int64(i), Type: "private"})
	}
	for i := range 30 {
		c, b := send(t, s, tok, 1000+int64(i), "hello")
		wantOK(t, fmt.Sprint("send to chat ", i), c, b)
	}
	c, b := send(t, s, tok, 1030, "hello")
	want429(t, "31st send of the token in a second", c, b, 1)
	c, b = send(t, s, otherTok, 1030, "hello")
	wantOK(t, "another token", c, b)
	clk.advance(time.Second)
	c, b = send(t, s, tok, 1030, "hello")
	wantOK(t, "a second later", c, b)
}

func TestStormAnswersTelegramsBody(t *testing.T) {
	s, _ := newLimited(t, Limits{})
	s.Storm(1, 7)
	c, b := send(t, s, tok, dm, "x")
	want429(t, "storm", c, b, 7)
	c, b = send(t, s, tok, dm, "y")
	wantOK(t, "after the storm", c, b)
	if s.Injected() != 1 || s.Limited() != 0 {
		t.Errorf("injected %d, limited %d; want 1, 0", s.Injected(), s.Limited())
	}
}
