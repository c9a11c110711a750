package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tableround/tableround/bot"
)

// transport rewrites https://discord.com to Config.APIURL and tells the
// schedulers what the X-RateLimit-* headers say.
type transport struct {
	base    http.RoundTripper
	api     *url.URL // nil: no rewrite
	observe func(path string, h http.Header)
	gate    func(req *http.Request) error // the token's shared budget (nil: none)
	status  func(code int)                // every response's status (the invalid-request count)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.api != nil && (req.URL.Host == "discord.com" || req.URL.Host == "discordapp.com") {
		req = req.Clone(req.Context())
		req.URL.Scheme = t.api.Scheme
		req.URL.Host = t.api.Host
		req.URL.Path = strings.TrimSuffix(t.api.Path, "/") + req.URL.Path
		req.URL.RawPath = ""
		req.Host = t.api.Host
	}
	if t.gate != nil {
		if err := t.gate(req); err != nil {
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil && t.observe != nil {
		t.observe(req.URL.Path, resp.Header)
	}
	if err == nil && t.status != nil {
		t.status(resp.StatusCode)
	}
	return resp, err
}

var (
	webhookPath = regexp.MustCompile(`/webhooks/(\d+)/`)
	tokenPath   = regexp.MustCompile(`/(webhooks|interactions)/(\d+)/[^/?]+`)
)

// observe penalises the webhook's scheduler until the bucket resets when
// Discord says no request is left in it.
func (b *schedBook) observe(path string, h http.Header) {
	if h.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	m := webhookPath.FindStringSubmatch(path)
	if m == nil {
		return
	}
	reset, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64)
	if err != nil || reset <= 0 {
		return
	}
	if s := b.existing(m[1]); s != nil {
		s.Penalize(seconds(reset), false)
	}
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// redact hides webhook and interaction tokens of a URL path.
func redact(s string) string { return tokenPath.ReplaceAllString(s, "/$1/$2/***") }

// apiError is a Discord REST error other than 429.
type apiError struct {
	Method, Path string
	Status       int
	Code         int
	Message      string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("discord %s %s: HTTP %d code %d: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// Discord JSON error codes we act on.
const (
	codeUnknownChannel = 10003
	codeUnknownMessage = 10008
	codeUnknownWebhook = 10015
	codeMissingAccess  = 50001
	codeMissingPerms   = 50013
)

func errCode(err error) (status, code int) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status, ae.Code
	}
	return 0, 0
}

func isUnknownWebhook(err error) bool {
	_, c := errCode(err)
	return c == codeUnknownWebhook
}

func isForbidden(err error) bool {
	st, c := errCode(err)
	return st == http.StatusForbidden || c == codeMissingPerms || c == codeMissingAccess
}

// gone maps a deleted message or channel to bot.ErrGone.
func gone(err error) error {
	st, c := errCode(err)
	if c == codeUnknownMessage || c == codeUnknownChannel || (st == http.StatusNotFound && c != codeUnknownWebhook) {
		return fmt.Errorf("%w: %v", bot.ErrGone, err)
	}
	return err
}

type jsonBody struct {
	ct   string
	data []byte
}

func jsonOf(v any) (jsonBody, error) {
	b, err := json.Marshal(v)
	return jsonBody{"application/json", b}, err
}

// bodyOf is a message's body: JSON, or multipart with its files.
func bodyOf(m any, files []*discordgo.File) (jsonBody, error) {
	if len(files) == 0 {
		return jsonOf(m)
	}
	var body jsonBody
	var err error
	body.ct, body.data, err = discordgo.MultipartBodyWithJSON(m, files)
	return body, err
}

// rest makes the adapter's own REST calls through discordgo's Session
// (its Client, token and user agent; no discordgo bucket, no hidden 429
// retry).
type rest struct {
	s      *discordgo.Session
	global *bot.Scheduler // the token's budget, for one-off calls
	clock  bot.Clock
}

// call sends one request with the bot's authorization and no retry: 429
// becomes *bot.RateLimitError, other failures *apiError. out may be nil.
func (a *rest) call(ctx context.Context, method, rawURL string, body jsonBody, out any) error {
	var r io.Reader
	if body.data != nil {
		r = bytes.NewReader(body.data)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, r)
	if err != nil {
		return fmt.Errorf("build request %s %s: %w", method, redact(rawURL), err)
	}
	req.Header.Set("Authorization", a.s.Token)
	req.Header.Set("User-Agent", a.s.UserAgent)
	if body.data != nil {
		req.Header.Set("Content-Type", body.ct)
	}
	resp, err := a.s.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a webhook token
		}
		return fmt.Errorf("discord %s %s: %w", method, redact(req.URL.Path), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read discord %s %s: %w", method, redact(req.URL.Path), err)
	}
	switch {
	case resp.StatusCode/100 == 2:
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("decode discord %s %s: %w", method, redact(req.URL.Path), err)
			}
		}
		return nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return rateLimit(resp.Header, data)
	}
	var body2 struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(data, &body2)
	return &apiError{Method: method, Path: redact(req.URL.Path), Status: resp.StatusCode, Code: body2.Code, Message: body2.Message}
}

// rateLimit reads a 429: retry_after from the body, else Retry-After.
func rateLimit(h http.Header, data []byte) error {
	var b struct {
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}
	_ = json.Unmarshal(data, &b)
	d := seconds(b.RetryAfter)
	if d <= 0 {
		if f, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil {
			d = seconds(f)
		}
	}
	if d <= 0 {
		d = time.Second
	}
	rl := &bot.RateLimitError{RetryAfter: d, Global: b.Global || h.Get("X-RateLimit-Global") == "true"}
	if !rl.Global && h.Get("X-RateLimit-Scope") == "shared" {
		return &sharedLimit{rl: rl} // the channel's limit: channelWrite rides it out
	}
	return rl
}

// setupCall sends a one-off REST call (a channel lookup, the webhook list
// or create, a thread start, command registration, a bot message that is
// not streamed, an interaction's answer) under the token's global budget,
// ahead of streaming edits, and waits out up to five 429s, so a burst of
// session starts is slowed down rather than lost. Every request carrying
// the bot's authorization goes through here or through a scheduler whose
// parent is the token's.
func (a *rest) setupCall(ctx context.Context, method, rawURL string, body jsonBody, out any) error {
	for attempt := 0; ; attempt++ {
		if err := a.global.WaitPriority(ctx, bot.PriorityUrgent); err != nil {
			return err
		}
		err := a.call(ctx, method, rawURL, body, out)
		var rl *bot.RateLimitError
		var sl *sharedLimit
		if !errors.As(err, &rl) || errors.As(err, &sl) || attempt >= 5 {
			return err // a shared 429 is its channel's, see channelWrite
		}
		if rl.Global {
			a.global.Penalize(rl.RetryAfter, false)
			continue
		}
		if err := a.clock.Sleep(ctx, rl.RetryAfter); err != nil {
			return err
		}
	}
}
