package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableround/tableround/bot"
)

// fakeManager stands in for the session manager: a start binds a session
// to the table (as the store tap does) and posts one speech.
type fakeManager struct {
	hub  *Hub
	mu   sync.Mutex
	reqs []bot.Request
	n    int
	// relayed, when set, says whether another replica took an answer.
	relayed func(bot.Request) bool
}

func (f *fakeManager) Handle(ctx context.Context, req bot.Request) (bot.Reply, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.n++
	n := f.n
	f.mu.Unlock()
	switch req.Command {
	case bot.CmdStart:
		if req.Text == "refuse" {
			return bot.Reply{Text: "Too many sessions right now."}, nil
		}
		f.hub.bind(fmt.Sprintf("sess-%d", n), req.Channel)
		conv, _, err := req.Open(ctx)
		if err != nil {
			return bot.Reply{}, err
		}
		st, _ := conv.Open(ctx, bot.Post{From: bot.Persona{ID: "craftsman", Name: "Bayar"}})
		st.Update("Hello")
		_ = st.Close(ctx, "Hello table")
		return bot.Reply{Text: "started"}, nil
	case bot.CmdAnswer: // as the manager: no session of that channel asks here or on another replica
		if f.relayed == nil || !f.relayed(req) {
			return bot.Reply{}, bot.ErrNoQuestion
		}
		return bot.Reply{}, nil
	case bot.CmdExport:
		return bot.Reply{Text: "here", File: &bot.Attachment{Name: "t.md", MIME: "text/markdown", Data: []byte("# t")}}, nil
	}
	return bot.Reply{Text: "ok " + string(req.Command)}, nil
}

func (f *fakeManager) last() bot.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[len(f.reqs)-1]
}

type fixture struct {
	srv *httptest.Server
	hub *Hub
	mgr *fakeManager
	now time.Time
	mu  sync.Mutex
}

func newFixture(t *testing.T, o Options) *fixture {
	t.Helper()
	f := &fixture{hub: NewHub(), now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.mgr = &fakeManager{hub: f.hub}
	o.Hub, o.Handler = f.hub, f.mgr
	o.Now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (f *fixture) start(t *testing.T, fields map[string]string, photo []byte) *http.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if photo != nil {
		w, _ := mw.CreateFormFile("photo", "p.heic")
		_, _ = w.Write(photo)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/start", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", f.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// started starts a table and returns its ID and participant key.
func (f *fixture) started(t *testing.T) (*Table, string) {
	t.Helper()
	resp := f.start(t, map[string]string{"topic": "lanterns", "token": "s3cret", "lang": "zh"}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("start: %d %s", resp.StatusCode, b)
	}
	m := regexp.MustCompile(`^/s/([0-9a-f]+)\?k=([0-9a-f]{32})$`).FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("redirect to %q, want /s/<id>?k=<128-bit hex key>", resp.Header.Get("Location"))
	}
	return f.hub.Table(m[1]), m[2]
}

func (f *fixture) post(t *testing.T, path string, body any, origin string) (int, map[string]string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestTokenRequiredBeyondLoopback(t *testing.T) {
	if _, err := New(Options{Hub: NewHub(), Handler: &fakeManager{}}); err != ErrNoToken {
		t.Errorf("no token, not loopback: %v, want ErrNoToken", err)
	}
	f := newFixture(t, Options{Token: "s3cret"})
	if got := f.start(t, map[string]string{"topic": "x", "token": "wrong"}, nil).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", got)
	}
	if len(f.mgr.reqs) != 0 {
		t.Error("a refused start reached the manager")
	}
	open := newFixture(t, Options{Loopback: true})
	if got := open.start(t, map[string]string{"topic": "x"}, nil).StatusCode; got != http.StatusSeeOther {
		t.Errorf("loopback without a token: %d, want 303", got)
	}
}

func TestStartAndKeys(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret"})
	tb, part := f.started(t)
	req := f.mgr.last()
	if req.Command != bot.CmdStart || req.Channel != "web:"+tb.ID || req.Text != "lanterns" || req.Options["language"] != "zh" || req.Open == nil {
		t.Errorf("the manager got %+v", req)
	} else if conv, ch, err := req.Open(context.Background()); err != nil || conv != tb.Conv || ch != "web:"+tb.ID {
		t.Errorf("the start's Opener gave %v, %q, %v; want the table's conversation and channel", conv, ch, err)
	}
	view, _ := tb.Keys()
	base := f.srv.URL + "/s/" + tb.ID
	for name, c := range map[string]struct {
		url  string
		want int
	}{
		"participant page": {base + "?k=" + part, 200}, "viewer page": {base + "?k=" + view, 200},
		"no key": {base, 404}, "wrong key": {base + "?k=" + strings.Repeat("0", 32), 404},
		"unknown table":      {f.srv.URL + "/s/nope?k=" + view, 404},
		"viewer export":      {base + "/export?format=md&k=" + view, 404},
		"participant export": {base + "/export?format=md&k=" + part, 200},
	} {
		if got := status(t, c.url); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	resp, _ := http.Get(base + "?k=" + view)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q is not strict", csp)
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("the page may leak its key in Referer")
	}

	// A viewer cannot act; the participant can.
	if code, _ := f.post(t, "/s/"+tb.ID+"/stop", actionBody{Key: view}, ""); code != http.StatusNotFound {
		t.Errorf("viewer stop: %d, want 404", code)
	}
	if code, out := f.post(t, "/s/"+tb.ID+"/say", actionBody{Key: part, Text: "more red"}, ""); code != 200 || out["reply"] != "ok say" {
		t.Errorf("say: %d %v", code, out)
	}
	if r := f.mgr.last(); r.Command != bot.CmdSay || r.Text != "more red" || r.User != starter(tb) {
		t.Errorf("say reached the manager as %+v", r)
	}
	if code, _ := f.post(t, "/s/"+tb.ID+"/stop", actionBody{Key: part}, ""); code != 200 || f.mgr.last().Command != bot.CmdStop {
		t.Errorf("participant stop: %d", code)
	}
}

func TestSameOriginOnEveryPost(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret"})
	tb, part := f.started(t)
	for _, path := range []string{"/start", "/s/" + tb.ID + "/stop", "/s/" + tb.ID + "/say", "/s/" + tb.ID + "/rotate", "/s/" + tb.ID + "/answer"} {
		if code, _ := f.post(t, path, actionBody{Key: part, Text: "x"}, "https://evil.example"); code != http.StatusForbidden {
			t.Errorf("cross-origin POST %s: %d, want 403", path, code)
		}
	}
}

func TestRotateViewKeyCutsOldViewers(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret"})
	tb, part := f.started(t)
	old, _ := tb.Keys()
	resp, err := http.Get(f.srv.URL + "/s/" + tb.ID + "/events?k=" + old)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	code, out := f.post(t, "/s/"+tb.ID+"/rotate", actionBody{Key: part}, "")
	if code != 200 || len(out["view"]) != 32 || out["view"] == old {
		t.Fatalf("rotate: %d %v", code, out)
	}
	// The old viewer's stream ends (the read returns EOF), without a timer.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Errorf("old stream: %v", err)
	}
	if got := status(t, f.srv.URL+"/s/"+tb.ID+"?k="+old); got != 404 {
		t.Errorf("old view key: %d, want 404", got)
	}
	if got := status(t, f.srv.URL+"/s/"+tb.ID+"?k="+out["view"]); got != 200 {
		t.Errorf("new view key: %d, want 200", got)
	}
}

// A body over the cap is refused from its Content-Length, before a byte
// of it is read, and a chunked one is cut off by MaxBytesReader.
func TestUploadCap(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret", MaxUpload: 1 << 20})
	big := bytes.Repeat([]byte{0xff}, 2<<20)
	if got := f.start(t, map[string]string{"topic": "x", "token": "s3cret"}, big).StatusCode; got != http.StatusRequestEntityTooLarge {
		t.Errorf("declared too large: %d, want 413", got)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("token", "s3cret")
	w, _ := mw.CreateFormFile("photo", "p.jpg")
	_, _ = w.Write(big)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/start", io.MultiReader(&body)) // no length: chunked
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked too large: %d, want 413", resp.StatusCode)
	}
	if len(f.mgr.reqs) != 0 {
		t.Error("an oversized start reached the manager")
	}
	// Within the cap the photo reaches the manager whole.
	photo := bytes.Repeat([]byte{1, 2, 3}, 1000)
	if got := f.start(t, map[string]string{"token": "s3cret"}, photo).StatusCode; got != http.StatusSeeOther {
		t.Fatalf("photo start: %d", got)
	}
	if img := f.mgr.last().Image; img == nil || !bytes.Equal(img.Data, photo) || img.Name != "p.heic" {
		t.Error("the photo did not reach the manager intact")
	}
}

func TestStartLimitPerIP(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret", StartsPerHour: 2})
	fields := map[string]string{"topic": "x", "token": "s3cret"}
	for i := range 2 {
		if got := f.start(t, fields, nil).StatusCode; got != http.StatusSeeOther {
			t.Fatalf("start %d: %d", i, got)
		}
	}
	resp := f.start(t, fields, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third start: %d (Retry-After %q), want 429 with a hint", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	f.mu.Lock()
	f.now = f.now.Add(time.Hour)
	f.mu.Unlock()
	if got := f.start(t, fields, nil).StatusCode; got != http.StatusSeeOther {
		t.Errorf("an hour later: %d, want 303", got)
	}
}

func TestRefusedStartShowsTheReason(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret"})
	resp := f.start(t, map[string]string{"topic": "refuse", "token": "s3cret"}, nil)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "Too many sessions") {
		t.Errorf("refused start: %d %s", resp.StatusCode, b)
	}
	if n := len(f.hub.tables.all()); n != 0 {
		t.Errorf("a table whose session never started is kept: %d tables", n)
	}
}

func TestAnswerThePeoplesTurn(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret"})
	tb, part := f.started(t)
	res := make(chan bot.Answer, 1)
	go func() {
		a, _ := tb.Conv.AskKeywords(context.Background(), bot.Question{Text: "?", Keywords: []string{"a"}, Timeout: time.Hour})
		res <- a
	}()
	var ref string
	for ref == "" { // AskKeywords registers the question before it logs it
		frames, wake := tb.Log.Since(0)
		if strings.Contains(string(bytes.Join(frames, nil)), `"t":"ask"`) {
			ref = tb.Conv.OpenQuestion()
			break
		}
		<-wake
	}
	if code, _ := f.post(t, "/s/"+tb.ID+"/answer", actionBody{Key: part, Ref: ref, Action: "edit"}, ""); code != http.StatusBadRequest {
		t.Errorf("edit without keywords: %d, want 400", code)
	}
	if code, _ := f.post(t, "/s/"+tb.ID+"/answer", actionBody{Key: part, Ref: ref, Action: "edit", Keywords: []string{" lantern ", ""}}, ""); code != 200 {
		t.Fatalf("answer: %d", code)
	}
	if a := <-res; a.Action != bot.ActionEdit || len(a.Keywords) != 1 || a.Keywords[0] != "lantern" {
		t.Errorf("the session got %+v", a)
	}
	if code, _ := f.post(t, "/s/"+tb.ID+"/answer", actionBody{Key: part, Ref: ref, Action: "keep"}, ""); code != http.StatusConflict {
		t.Errorf("second answer: %d, want 409", code)
	}
}

func TestKeysAreNotLogged(t *testing.T) {
	tb := NewTable()
	v, p := tb.Keys()
	var buf bytes.Buffer
	fmt.Fprint(&buf, tb.LogValue())
	if strings.Contains(buf.String(), v) || strings.Contains(buf.String(), p) {
		t.Error("a key shows in the table's log value")
	}
	if len(v) != 32 || len(p) != 32 || v == p {
		t.Errorf("keys %d and %d hex digits, want two different 128-bit keys", len(v), len(p))
	}
	if _, err := url.ParseQuery("k=" + v); err != nil {
		t.Error(err)
	}
}
