package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tableround/tableround/bot"
)

// maxTopic caps the topic (the manager passes it to models as quoted data).
const maxTopic = 500

// handleStart serves the start form: it checks the token, the client's
// start limit and the upload cap (before reading the body), creates a
// table and asks the manager to start its session, then sends the starter
// to the table with the participant key.
func (s *Server) handleStart(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.o.MaxUpload {
		s.fail(w, http.StatusRequestEntityTooLarge, "The photo is too large (limit %d MB).", s.o.MaxUpload>>20)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxUpload)
	defer drain(r.Body)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(w, http.StatusRequestEntityTooLarge, "The photo is too large (limit %d MB).", s.o.MaxUpload>>20)
			return
		}
		if err := r.ParseForm(); err != nil {
			s.fail(w, http.StatusBadRequest, "The form could not be read.")
			return
		}
	}
	if r.MultipartForm != nil {
		defer func() { _ = r.MultipartForm.RemoveAll() }()
	}
	if s.o.Token != "" && subtle.ConstantTimeCompare([]byte(r.FormValue("token")), []byte(s.o.Token)) != 1 {
		s.fail(w, http.StatusUnauthorized, "The access token is wrong.")
		return
	}
	if ok, retry := s.limit.take(clientIP(r)); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())+1))
		s.fail(w, http.StatusTooManyRequests, "Too many tables started from here; try again in %d minutes.", int(retry.Minutes())+1)
		return
	}
	in := startInput{Topic: strings.TrimSpace(r.FormValue("topic")), Lang: r.FormValue("lang"), Pack: r.FormValue("pack")}
	if in.Lang != "" && in.Lang != "en" && in.Lang != "zh" {
		in.Lang = ""
	}
	if len(in.Topic) > maxTopic {
		s.fail(w, http.StatusBadRequest, "The topic is too long (up to %d characters).", maxTopic)
		return
	}
	if f, hdr, err := r.FormFile("photo"); err == nil {
		data, rerr := io.ReadAll(f)
		f.Close()
		if rerr != nil {
			s.fail(w, http.StatusBadRequest, "The photo could not be read.")
			return
		}
		if len(data) > 0 {
			in.Photo = &bot.Attachment{Name: hdr.Filename, MIME: hdr.Header.Get("Content-Type"), Data: data}
		}
	}
	if in.Topic == "" && in.Photo == nil {
		s.fail(w, http.StatusBadRequest, "Give the table a topic or a photo.")
		return
	}
	t := NewTable()
	s.o.Hub.Add(t)
	reply, err := startSession(r.Context(), s.o.Handler, t, in)
	if err != nil {
		s.o.Hub.Remove(t.ID)
		s.log.Error("start", "table", t, "err", err)
		s.fail(w, http.StatusInternalServerError, "Sorry, the table could not start.")
		return
	}
	if t.SessionID() == "" { // the manager said no (busy, a limit, a bad pack)
		s.o.Hub.Remove(t.ID)
		s.fail(w, http.StatusServiceUnavailable, "%s", reply.Text)
		return
	}
	s.log.Info("table started", "table", t)
	_, part := t.Keys()
	http.Redirect(w, r, "/s/"+t.ID+"?k="+url.QueryEscape(part), http.StatusSeeOther)
}

// failPage is parsed on first use, not at start-up.
var failPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("fail").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>TableRound</title><link rel="stylesheet" href="/static/app.css"></head>
<body class="page"><main class="notice-page"><h1>TableRound</h1><p class="error">{{.}}</p><p><a href="/">Back</a></p></main></body></html>
`))
})

// fail answers a form with a short, kind page.
func (s *Server) fail(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_ = failPage().Execute(w, fmt.Sprintf(format, args...))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ipLimit allows n starts per window per client IP.
type ipLimit struct {
	n      int
	window time.Duration
	now    func() time.Time
	mu     sync.Mutex
	uses   map[string][]time.Time
}

func newIPLimit(n int, window time.Duration, now func() time.Time) *ipLimit {
	return &ipLimit{n: n, window: window, now: now, uses: map[string][]time.Time{}}
}

// take records a start for ip, or says how long until one is allowed.
func (l *ipLimit) take(ip string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	kept := l.uses[ip][:0]
	for _, t := range l.uses[ip] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.n {
		l.uses[ip] = kept
		return false, l.window - now.Sub(kept[0])
	}
	l.uses[ip] = append(kept, now)
	if len(l.uses) > 100000 { // a flood of addresses: forget the quiet ones
		for k, v := range l.uses {
			if len(v) == 0 || now.Sub(v[len(v)-1]) >= l.window {
				delete(l.uses, k)
			}
		}
	}
	return true, 0
}
