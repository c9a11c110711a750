package discordfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// gwConn is one gateway connection. The gateway's lock guards session,
// ready and shard.
type gwConn struct {
	ws      *websocket.Conn
	wmu     sync.Mutex
	session string
	ready   bool
	// shard is [shard_id, num_shards] from IDENTIFY ({0, 1} when absent):
	// guild events reach the connection whose shard_id is
	// (guild_id >> 22) % num_shards, as on Discord.
	shard [2]int64
}

// receives reports whether c's shard gets events of guild (events with no
// guild, such as DMs, go to shard 0).
func (c *gwConn) receives(guild string) bool {
	if c.shard[1] <= 1 {
		return true
	}
	g, _ := strconv.ParseInt(guild, 10, 64)
	return (g>>22)%c.shard[1] == c.shard[0]
}

func (c *gwConn) send(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteJSON(v)
}

// gateway is the fake's gateway WebSocket: its connections, under its own
// lock, and the sessions they can resume, in their own store (taken after
// the connections' lock is let go, never inside it).
type gateway struct {
	token string // the bot token without "Bot "; empty accepts any
	bot   User
	ids   *snowflakes
	up    websocket.Upgrader

	sessions sessionStore

	mu    sync.Mutex
	conns map[*gwConn]bool
}

type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d,omitempty"`
	S  int64           `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

// serveGateway speaks Hello, Identify → READY, Resume → RESUMED (or
// Invalid Session), and heartbeat ACKs.
func (s *gateway) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws}
	s.mu.Lock()
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		ws.Close()
	}()
	if c.send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 41250}}) != nil {
		return
	}
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			return
		}
		switch f.Op {
		case 1:
			_ = c.send(map[string]any{"op": 11})
		case 2:
			var id struct {
				Token string    `json:"token"`
				Shard *[2]int64 `json:"shard"`
			}
			_ = json.Unmarshal(f.D, &id)
			shard := [2]int64{0, 1}
			if id.Shard != nil {
				shard = *id.Shard
			}
			if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
				c.wmu.Lock()
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4010, "Invalid shard."), time.Now().Add(time.Second))
				c.wmu.Unlock()
				return
			}
			if s.token != "" && id.Token != "Bot "+s.token {
				c.wmu.Lock()
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."), time.Now().Add(time.Second))
				c.wmu.Unlock()
				return
			}
			session := s.ids.newID()
			s.sessions.open(session, shard) // before the connection is ready for events
			s.mu.Lock()
			c.shard, c.session, c.ready = shard, session, true
			s.mu.Unlock()
			_ = c.send(map[string]any{"op": 0, "s": 1, "t": "READY", "d": map[string]any{
				"v": 9, "session_id": session,
				"user":        map[string]any{"id": s.bot.ID, "username": s.bot.Name, "bot": true},
				"application": map[string]any{"id": s.bot.ID, "flags": 0},
				"guilds":      []any{},
			}})
		case 6:
			var res struct {
				SessionID string `json:"session_id"`
				Seq       int64  `json:"seq"`
			}
			_ = json.Unmarshal(f.D, &res)
			sess, ok := s.sessions.resume(res.SessionID)
			if !ok {
				_ = c.send(map[string]any{"op": 9, "d": false})
				continue
			}
			s.mu.Lock()
			c.session, c.shard, c.ready = res.SessionID, sess.shard, true
			s.mu.Unlock()
			_ = c.send(map[string]any{"op": 0, "s": sess.seq, "t": "RESUMED", "d": map[string]any{}})
		}
	}
}

// Dispatch sends an event to every identified connection of the shard its
// guild_id belongs to (every connection when not sharded).
func (s *gateway) Dispatch(event string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var g struct {
		GuildID string `json:"guild_id"`
	}
	_ = json.Unmarshal(raw, &g)
	s.mu.Lock()
	var conns []*gwConn
	var sessions []string
	for c := range s.conns {
		if c.ready && c.receives(g.GuildID) {
			conns = append(conns, c)
			sessions = append(sessions, c.session)
		}
	}
	s.mu.Unlock()
	seqs := make([]int64, len(conns))
	for i, id := range sessions {
		seqs[i] = s.sessions.next(id)
	}
	for i, c := range conns {
		if err := c.send(frame{Op: 0, S: seqs[i], T: event, D: raw}); err != nil {
			return err
		}
	}
	return nil
}

// Connected reports how many connections have identified or resumed.
func (s *gateway) Connected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.ready {
			n++
		}
	}
	return n
}

// Identifies and Resumes count gateway logins.
func (s *gateway) Identifies() int {
	identifies, _ := s.sessions.counts()
	return identifies
}

// Resumes counts successful resumes.
func (s *gateway) Resumes() int {
	_, resumes := s.sessions.counts()
	return resumes
}

// DropConnections cuts every gateway connection without a close frame, as
// a network failure would; clients resume.
func (s *gateway) DropConnections() {
	s.mu.Lock()
	var conns []*gwConn
	for c := range s.conns {
		conns = append(conns, c)
		c.ready = false
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.NetConn().Close()
	}
}
