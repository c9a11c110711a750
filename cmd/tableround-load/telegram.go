package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tableround/tableround/bot/telegram/telegramfake"
)

// The Telegram side of the load tool: the fake Bot API (telegramfake) in
// its own process with a recorder around it and the same control API as
// the fake Discord (/_load/setup, /_load/mention, /_load/writes,
// /_load/stats), so run drives either platform the same way.

// Telegram's tokens and names in a load run.
const (
	loadTGToken    = "100:load-token"
	loadTGUsername = "tableround_load_bot"
	limitsTelegram = "telegram" // Telegram's reported budgets (telegramfake.TelegramLimits)
	chatsPrivate   = "private"
	chatsGroup     = "group"
)

// personaTokens are the six persona bots of -persona-bots, in seat order.
var personaTokens = func() []string {
	out := make([]string, 6)
	for i := range out {
		out[i] = fmt.Sprintf("%d:load-persona-%d", 201+i, i+1)
	}
	return out
}()

// tgFakeLimits are the budgets the fake Telegram enforces in a regime.
func tgFakeLimits(regime string) (telegramfake.Limits, error) {
	switch regime {
	case limitsTelegram, limitsDiscord: // the platform's own limits
		return telegramfake.TelegramLimits(), nil
	case limitsRaised: // a bot whose global budget is not the bottleneck; per chat and group kept
		l := telegramfake.TelegramLimits()
		l.BotPerSecond = 0
		return l, nil
	case limitsNone:
		return telegramfake.Limits{}, nil
	}
	return telegramfake.Limits{}, fmt.Errorf("unknown -limits %q for Telegram (telegram, raised or none)", regime)
}

// fakeTelegram is telegramfake with a recorder and the control API. Its
// parts each have their own lock, taken one after another.
type fakeTelegram struct {
	fake  *telegramfake.Server
	chats string // chatsPrivate or chatsGroup

	writes writeLog
	splits splitBook   // which marker a message's unmarked start continues
	shown  markerTally // letters and digits shown per marker
}

func runFakeTelegram(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fake-telegram", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	limits := fs.String("limits", limitsTelegram, "the budgets it enforces: telegram, raised (no per-bot limit) or none")
	chats := fs.String("chats", chatsPrivate, "the chats setup makes: private or group")
	personas := fs.Bool("persona-bots", false, "register the six persona bots too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lim, err := tgFakeLimits(*limits)
	if err != nil {
		return err
	}
	if *chats != chatsPrivate && *chats != chatsGroup {
		return fmt.Errorf("unknown -chats %q (private or group)", *chats)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	f := &fakeTelegram{chats: *chats}
	f.fake = telegramfake.New(telegramfake.Options{Limits: lim, Listener: ln, Wrap: f.wrap})
	defer f.fake.Close()
	f.fake.AddBot(loadTGToken, loadTGUsername)
	if *personas {
		for i, tok := range personaTokens {
			f.fake.AddBot(tok, fmt.Sprintf("load_persona%d_bot", i+1))
		}
	}
	fmt.Fprintf(stdout, "listening %s\n", f.fake.URL())
	<-ctx.Done()
	return nil
}

func (f *fakeTelegram) wrap(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_load/setup", f.setup)
	mux.HandleFunc("POST /_load/mention", f.mention)
	mux.HandleFunc("GET /_load/writes", f.records)
	mux.HandleFunc("GET /_load/stats", f.stats)
	mux.Handle("/", f.record(next))
	return mux
}

// setup makes n chats of the run's kind: private chats have the person's
// user ID, groups negative IDs.
func (f *fakeTelegram) setup(w http.ResponseWriter, r *http.Request) {
	var req setupRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out := setupReply{Guild: f.chats}
	for i := range req.Channels {
		c := telegramfake.Chat{ID: int64(5000 + i), Type: "private"}
		if f.chats == chatsGroup {
			c = telegramfake.Chat{ID: -int64(1_000_000 + i), Type: "supergroup", Title: fmt.Sprintf("load group %d", i)}
		}
		f.fake.AddChat(c)
		out.Channels = append(out.Channels, strconv.FormatInt(c.ID, 10))
	}
	photos.make(req.Channels)
	writeJSONReply(w, out)
}

// mention sends the session's photo with the topic as its caption: in a
// private chat as is, in a group addressed to the bot with a mention.
func (f *fakeTelegram) mention(w http.ResponseWriter, r *http.Request) {
	var req mentionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	chat, err := strconv.ParseInt(req.Channel, 10, 64)
	if err != nil {
		http.Error(w, "bad chat "+req.Channel, http.StatusBadRequest)
		return
	}
	in := telegramfake.In{Chat: chat, Caption: req.Content}
	if chat < 0 {
		in.Caption = "@" + loadTGUsername + " " + req.Content
		in.From = telegramfake.User{ID: 9000 - chat, Name: req.User}
	} else {
		in.From = telegramfake.User{ID: chat, Name: req.User}
	}
	if req.Photo != nil {
		in.Photo = photos.get(*req.Photo)
	}
	id, _ := f.fake.Send(loadTGToken, in)
	writeJSONReply(w, map[string]string{"id": strconv.Itoa(id)})
}

func (f *fakeTelegram) records(w http.ResponseWriter, _ *http.Request) {
	writeJSONReply(w, f.writes.all())
}

// stats: Connected is 1 once the main bot polls.
func (f *fakeTelegram) stats(w http.ResponseWriter, _ *http.Request) {
	st := fakeStats{RateLimited: f.fake.Limited(), Violations: f.fake.Broken(), Parents: map[string]string{}}
	if f.fake.Calls("getUpdates") > 0 {
		st.Connected = 1
	}
	writeJSONReply(w, st)
}

// tgWrites are the methods that put text in a chat.
var tgWrites = map[string]bool{"sendMessage": true, "sendPhoto": true, "sendDocument": true, "editMessageText": true,
	"sendMessageDraft": true}

// record passes a call to the fake and records it when it writes text.
func (f *fakeTelegram) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, method, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
		botID, _, _ := strings.Cut(token, ":")
		if !strings.HasPrefix(r.URL.Path, "/bot") || !tgWrites[method] {
			next.ServeHTTP(w, r)
			return
		}
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		fields := formFields(r.Header.Get("Content-Type"), raw)
		chat := fields["chat_id"]
		wr := Write{T: time.Now().UnixNano(), Edit: method == "editMessageText", Draft: method == "sendMessageDraft",
			Status: rec.status, Channel: chat, Bot: botID}
		if rec.status == http.StatusTooManyRequests {
			wr.Limit = "flood"
		}
		var resp struct {
			Result struct {
				MessageID int `json:"message_id"`
			} `json:"result"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &resp)
		switch {
		case wr.Draft:
			wr.Message = chat + "/d" + fields["draft_id"]
		case wr.Edit:
			wr.Message = chat + "/" + fields["message_id"]
		case resp.Result.MessageID != 0:
			wr.Message = chat + "/" + strconv.Itoa(resp.Result.MessageID)
		}
		text := fields["text"]
		if text == "" {
			text = fields["caption"]
		}
		if wr.Status/100 == 2 && wr.Message != "" {
			f.count(&wr, text)
		}
		f.writes.add(wr)
	})
}

// count sets the markers a write shows and, for each, the letters and
// digits shown of it across every message carrying it: a long text split
// over several messages (a group's merged stage over 4096 characters)
// shows its marker once, and the next message goes on with its text (see
// splitBook.continued).
func (f *fakeTelegram) count(wr *Write, text string) {
	lead, secs, runes := tgSections(text)
	if !wr.Draft {
		secs = f.splits.continued(wr.Channel, wr.Message, wr.Edit, lead, secs, runes)
	}
	if out := f.shown.add(wr.Message, secs, wr.Draft); len(out) > 0 {
		wr.Marker, wr.N = out[0].Marker, out[0].N
		wr.More = out[1:]
	}
}

// headerRe is a persona's heading line as the adapter renders it in HTML
// (emoji, <b>name</b> · <i>role</i>): it is not model text.
var headerRe = regexp.MustCompile(`(?m)^[^\n<]*<b>[^<\n]*</b> · <i>[^<\n]*</i>$`)

var tagRe = regexp.MustCompile(`<[^>]*>`)

// tgSections reads a Telegram HTML text: the letters and digits before its
// first marker, then each marker with the letters and digits after it up
// to the next one, and the length of the text as shown (runes).
func tgSections(text string) (lead int, secs []Section, runes int) {
	runes = utf8.RuneCountInString(html.UnescapeString(tagRe.ReplaceAllString(text, "")))
	text = headerRe.ReplaceAllString(text, "")
	text = html.UnescapeString(tagRe.ReplaceAllString(text, ""))
	locs := markerRe.FindAllStringSubmatchIndex(text, -1)
	if len(locs) == 0 {
		return alnum(text), nil, runes
	}
	lead = alnum(text[:locs[0][2]])
	for i, l := range locs {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][2]
		}
		secs = append(secs, Section{Marker: text[l[2]:l[3]], N: alnum(text[l[3]:end])})
	}
	return lead, secs, runes
}

// formFields reads a call's scalar fields from a multipart (what
// go-telegram/bot sends), JSON or urlencoded body.
func formFields(contentType string, raw []byte) map[string]string {
	out := map[string]string{}
	mt, params, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FileName() == "" {
				b, _ := io.ReadAll(io.LimitReader(p, 1<<20))
				out[p.FormName()] = string(b)
			}
		}
	case mt == "application/json":
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		for k, v := range m {
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64:
				out[k] = strconv.FormatInt(int64(v), 10)
			}
		}
	default:
		if v, err := url.ParseQuery(string(raw)); err == nil {
			for k := range v {
				out[k] = v.Get(k)
			}
		}
	}
	return out
}
