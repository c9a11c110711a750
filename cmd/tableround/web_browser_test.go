package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/providers/demo"
	"github.com/tableround/tableround/web"
)

// syncBuffer is a bytes.Buffer safe to write and read from two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// chromium finds Debian's chromium. Under CI=1 (.ci/run installs it) a
// missing browser fails the test instead of skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium is not installed")
	return ""
}

var webURLLine = regexp.MustCompile(`web table: (http://[0-9.:]+)/`)

// TestWebTableInABrowser starts `tableround web` on the demo model, starts
// a table from the form with a HEIC photo in headless Chromium, watches a
// persona's text grow while it streams, sees the KJ diagram and the vote
// chart, answers the people's turn, survives the server dropping the
// stream, and checks that the page's speeches are the export's.
func TestWebTableInABrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the browser test runs a whole session")
	}
	exe := chromium(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	heic := filepath.Join(repo, "imagepipe", "testdata", "mif1.heic")
	shot := os.Getenv("TABLEROUND_SCREENSHOT") // e.g. docs/web-table.png, from the repo root
	_, env := testEnv(t)
	env["MAX_TURNS"] = "1"
	env["USER_INPUT_TIMEOUT"] = "10m" // the browser answers it

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	hubc := make(chan *web.Hub, 1)
	// Fast, but still token by token: 4 words a chunk, 1000 tokens a second.
	pace := demo.Options{FirstToken: 20 * time.Millisecond, TokensPerSecond: 1000, ChunkTokens: 4}
	// The browser reconnects a dropped stream after 50 ms, not a second.
	wr := webRun{demo: &pace, hub: func(h *web.Hub) { hubc <- h }, stream: web.StreamOptions{RetryMillis: 50}}
	done := make(chan int, 1)
	go func() {
		done <- runWebWith(ctx, envOf(env), []string{"--addr", "127.0.0.1:0"}, &out, &errs, wr)
	}()
	var base string
	eventually.Within(t, time.Minute, "the web table prints its URL", func() bool {
		if m := webURLLine.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			return true
		}
		select {
		case code := <-done:
			t.Fatalf("tableround web exited with %d: %s", code, errs.String())
		default:
		}
		return false
	})
	hub := <-hubc

	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil { // the browser lives as long as this first call's context
		t.Fatalf("start chromium: %v", err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cc := context.WithTimeout(bctx, 3*time.Minute)
		defer cc()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, errs.String())
		}
	}

	// Start from the form, with a HEIC photo straight from an iPhone.
	run("start from the form",
		chromedp.Navigate(base+"/"),
		// The demo model quotes the topic in its speeches, so its **bold**
		// comes back as a model's Markdown would.
		chromedp.SetValue(chromedp.CSS("#topic"), "A paper-cut **lantern** for Spring Festival"),
		chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{heic}),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#transcript .msg")),
	)
	location := evalJS[string](t, bctx, "location.href")
	u, err := url.Parse(location)
	if err != nil || !strings.HasPrefix(u.Path, "/s/") || len(u.Query().Get("k")) != 32 {
		t.Fatalf("the form led to %q, want /s/<id>?k=<participant key>", location)
	}

	// A persona's text grows while it streams.
	var firstM string
	var firstLen int
	grew := false
	deadline := time.Now().Add(2 * time.Minute)
	for !grew && time.Now().Before(deadline) {
		cur := evalJS[[]any](t, bctx, `(() => {
			const e = document.querySelector('.msg.speech.streaming');
			if (!e) return ["", 0];
			const t = e.querySelector('.text');
			return [e.dataset.m, t.dataset.placeholder ? 0 : t.textContent.length];
		})()`)
		m, n := cur[0].(string), int(cur[1].(float64))
		switch {
		case m == "" || n == 0:
		case m != firstM:
			firstM, firstLen = m, n
		case n > firstLen:
			grew = true
		}
	}
	if !grew {
		t.Fatal("no persona's text was seen growing while it streamed")
	}

	// The KJ diagram and the vote chart are drawn (SVG images that loaded).
	run("see the pictures",
		chromedp.WaitVisible(chromedp.CSS("#kj img")),
		chromedp.WaitVisible(chromedp.CSS("#votes img")),
	)
	kjW := evalJS[int](t, bctx, `document.querySelector('#kj img').naturalWidth`)
	votesW := evalJS[int](t, bctx, `document.querySelector('#votes img').naturalWidth`)
	// The HEIC photo, prepared by imagepipe, is on the page as a picture.
	if w := evalJS[int](t, bctx, `(document.querySelector('figure.image img') || {}).naturalWidth || 0`); w == 0 {
		t.Error("the photo is not shown")
	}
	if kjW == 0 || votesW == 0 {
		t.Errorf("the diagrams did not render: KJ %d px, votes %d px wide", kjW, votesW)
	}

	// The people's turn: keep the vote.
	run("answer the people's turn",
		chromedp.WaitVisible(chromedp.CSS(`#answer button[data-action=keep]`)),
		chromedp.Click(chromedp.CSS(`#answer button[data-action=keep]`)),
		chromedp.WaitNotVisible(chromedp.CSS("#answer")),
	)

	// The server drops every stream; the page resumes from its last event.
	hub.CloseStreams()
	run("reconnect", chromedp.WaitVisible(chromedp.CSS(`body[data-connects="2"]`)))
	if shot != "" {
		evalJS[bool](t, bctx, `window.scrollTo(0, 0); document.querySelector('.side').scrollTo(0, 0); true`)
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, shot), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("the session ends", chromedp.WaitVisible(chromedp.CSS(`body[data-ended="1"]`)))

	// Speeches are rendered from their Markdown: the bold word is bold.
	if got := evalJS[string](t, bctx, `(document.querySelector('.msg.speech .text strong') || {}).textContent || ""`); got != "lantern" {
		t.Errorf("the speeches' **lantern** renders as <strong>%s</strong>, want lantern", got)
	}
	if n := evalJS[int](t, bctx, `[...document.querySelectorAll('.msg.speech .text')].filter(e => e.textContent.includes('**')).length`); n != 0 {
		t.Errorf("%d speeches show raw ** markers", n)
	}
	checkMarkdown(t, bctx)
	// The page keeps each speech's source next to its rendering.
	page := evalJS[[]string](t, bctx, `[...document.querySelectorAll('.msg.speech .text')].map(e => e.source || "")`)
	msgs := evalJS[int](t, bctx, `document.querySelectorAll('.msg').length`)
	distinct := evalJS[int](t, bctx, `new Set([...document.querySelectorAll('.msg')].map(e => e.dataset.m)).size`)
	if msgs != distinct {
		t.Errorf("%d messages on the page but %d distinct: something was shown twice", msgs, distinct)
	}
	speeches := exportSpeeches(t, base+u.Path+"/export?format=json&k="+u.Query().Get("k"))
	if len(speeches) < 6 {
		t.Fatalf("the export has %d speeches", len(speeches))
	}
	// Every speech of the export is on the page, whole (concurrent stages
	// log speeches as they finish, the page shows them as they opened, so
	// the order within a stage may differ).
	onPage := map[string]int{}
	for _, p := range page {
		onPage[p]++
	}
	for i, sp := range speeches {
		if onPage[sp] == 0 {
			t.Errorf("the page lacks the export's speech %d of %d:\n%q", i+1, len(speeches), sp)
			continue
		}
		onPage[sp]--
	}
	if v := evalJS[string](t, bctx, `document.body.dataset.cspViolations`); v != "0" {
		t.Errorf("%s Content-Security-Policy violations on the page", v)
	}
	// Chinese at the press of a button, and the projector layout.
	run("switch to Chinese and the projector", chromedp.Click(chromedp.CSS("#langswitch")), chromedp.Click(chromedp.CSS("#projector")))
	if got := evalJS[string](t, bctx, `document.querySelector('#stop').textContent`); got != "停止" {
		t.Errorf("the Stop button reads %q in Chinese", got)
	}
	if !evalJS[bool](t, bctx, `document.body.classList.contains('projector') && parseFloat(getComputedStyle(document.body).fontSize) >= 24`) {
		t.Error("the projector layout did not apply")
	}
	run("leave the projector layout", chromedp.Click(chromedp.CSS("#projector")))
	// A phone: one column, nothing wider than the screen.
	run("phone layout", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	if w := evalJS[int](t, bctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("on a 390 px phone the page is %d px wide", w)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("tableround web exited with %d", code)
	}
}

// checkMarkdown runs the page's Markdown renderer on text a model could
// write: the safe subset becomes elements, HTML stays text, a link that is
// not http(s) is no link, and while streaming an open **bold** is bold.
func checkMarkdown(t *testing.T, ctx context.Context) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	got, err := chromedp.Run(c, chromedp.Evaluate[map[string]any](`(async () => {
		const { renderMarkdown } = await import('/static/markdown.js');
		const d = document.createElement('div');
		renderMarkdown(d, '# Plan\n**bold** and *it* and snake_case_name, `+"`"+`a*b`+"`"+`\n' +
			'<img src=x onerror="document.body.dataset.pwned=1"> [bad](javascript:history.back) [good](https://example.com/x)\n\n' +
			'- one\n- **two**\n\n3. three\n\n`+"```"+`\n<b>code</b>\n`+"```"+`');
		const live = document.createElement('div');
		renderMarkdown(live, 'so **bo', true);
		const done = document.createElement('div');
		renderMarkdown(done, 'so **bo', false);
		const a = d.querySelectorAll('a');
		return {
			h: d.querySelector('h3')?.textContent, strong: d.querySelector('p strong')?.textContent,
			em: d.querySelector('em')?.textContent, code: d.querySelector('p code')?.textContent,
			snake: d.textContent.includes('snake_case_name'), elements: d.querySelectorAll('img, b, script').length,
			html: d.textContent.includes('<img src=x onerror='), links: a.length, href: a[0]?.href, rel: a[0]?.rel,
			bad: d.textContent.includes('bad'), items: d.querySelectorAll('ul li').length, li: d.querySelector('ul li strong')?.textContent,
			ol: d.querySelector('ol')?.start, pre: d.querySelector('pre code')?.textContent,
			live: live.querySelector('strong')?.textContent || '', done: done.textContent,
		};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("render Markdown: %v", err)
	}
	want := map[string]any{"h": "Plan", "strong": "bold", "em": "it", "code": "a*b", "snake": true, "elements": 0.0,
		"html": true, "links": 1.0, "href": "https://example.com/x", "rel": "noopener noreferrer nofollow", "bad": true,
		"items": 2.0, "li": "two", "ol": 3.0, "pre": "<b>code</b>", "live": "bo", "done": "so **bo"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Markdown %s: got %#v, want %#v", k, got[k], v)
		}
	}
}

// evalJS evaluates a JavaScript expression in the page.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// exportSpeeches downloads the JSON export and returns its speeches' text.
func exportSpeeches(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %s", resp.Status)
	}
	var x struct {
		Stages []struct {
			Events []struct {
				Type  string `json:"type"`
				Stage string `json:"stage"`
				Text  string `json:"text"`
			} `json:"events"`
		} `json:"stages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&x); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range x.Stages {
		for _, ev := range st.Events {
			// Keyword and ballot speeches are the model's JSON, which the
			// chat (and so the page) shows parsed, as a list.
			if ev.Type == "speech" && ev.Stage != "keywords" && ev.Stage != "voting" {
				out = append(out, ev.Text)
			}
		}
	}
	return out
}
