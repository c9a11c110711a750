package discordfake

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// gwClient is a bare gateway client for these tests.
type gwClient struct {
	t  *testing.T
	ws *websocket.Conn
}

// dialGateway connects and reads Hello.
func dialGateway(t *testing.T, s *Server) *gwClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.URL(), "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &gwClient{t: t, ws: ws}
	if f := c.read(); f.Op != 10 {
		t.Fatalf("first frame op %d, want Hello (10)", f.Op)
	}
	return c
}

func (c *gwClient) write(op int, d any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(map[string]any{"op": op, "d": d}); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one frame; the read deadline only stops a broken test from
// hanging.
func (c *gwClient) read() frame {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f frame
	if err := c.ws.ReadJSON(&f); err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

func TestGatewayResumesASessionWhereItLeftOff(t *testing.T) {
	s := New(Options{Token: "tok"})
	t.Cleanup(s.Close)

	c := dialGateway(t, s)
	c.write(2, map[string]any{"token": "Bot tok"})
	ready := c.read()
	var r struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal(ready.D, &r)
	if ready.T != "READY" || ready.S != 1 || r.SessionID == "" {
		t.Fatalf("identify answered %s s=%d session %q", ready.T, ready.S, r.SessionID)
	}
	if err := s.Dispatch("MESSAGE_CREATE", map[string]any{"id": "1"}); err != nil {
		t.Fatal(err)
	}
	if f := c.read(); f.T != "MESSAGE_CREATE" || f.S != 2 {
		t.Fatalf("first event %s s=%d, want MESSAGE_CREATE s=2", f.T, f.S)
	}

	s.DropConnections()
	c = dialGateway(t, s)
	c.write(6, map[string]any{"token": "Bot tok", "session_id": r.SessionID, "seq": 2})
	if f := c.read(); f.T != "RESUMED" || f.S != 2 {
		t.Fatalf("resume answered %s s=%d, want RESUMED s=2", f.T, f.S)
	}
	if s.Resumes() != 1 || s.Identifies() != 1 || s.Connected() != 1 {
		t.Errorf("resumes %d, identifies %d, connected %d; want 1, 1, 1", s.Resumes(), s.Identifies(), s.Connected())
	}
	if err := s.Dispatch("MESSAGE_CREATE", map[string]any{"id": "2"}); err != nil {
		t.Fatal(err)
	}
	if f := c.read(); f.S != 3 {
		t.Errorf("event after the resume s=%d, want 3 (the session goes on)", f.S)
	}

	other := dialGateway(t, s)
	other.write(6, map[string]any{"token": "Bot tok", "session_id": "no-such-session", "seq": 1})
	if f := other.read(); f.Op != 9 {
		t.Errorf("resume of an unknown session answered op %d, want Invalid Session (9)", f.Op)
	}
	if s.Resumes() != 1 {
		t.Errorf("resumes %d after a refused resume, want 1", s.Resumes())
	}
}
