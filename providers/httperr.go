package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ExcerptLimit is how many bytes of a provider's error body are read, and
// excerptRunes how much of it may appear in an error message.
const (
	ExcerptLimit = 8 << 10
	excerptRunes = 200
)

// ReadExcerpt reads at most ExcerptLimit bytes of an error body.
func ReadExcerpt(r io.Reader) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, ExcerptLimit))
	return b
}

// Excerpt returns a short single-line excerpt of a provider body, safe to put
// in an error message.
func Excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if r := []rune(s); len(r) > excerptRunes {
		s = string(r[:excerptRunes]) + "…"
	}
	return s
}

// Redact replaces every occurrence of each non-empty secret in s.
func Redact(s string, secrets ...string) string {
	for _, k := range secrets {
		if len(k) >= 4 {
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return s
}

// ParseRetryAfter reads a Retry-After header value: delay seconds or an HTTP
// date. It returns 0 when the value is empty, invalid or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// errorBody is the union of the error bodies of OpenAI-compatible servers,
// Gemini and Ark: {"error": {"code", "message", "type", "status"}} or
// {"error": "text"}.
type errorBody struct {
	Error json.RawMessage `json:"error"`
}

// ErrorDetail is a provider's error object.
type ErrorDetail struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Status  string          `json:"status"`
}

// CodeNumber returns the numeric code of the error object, 0 when it is a
// string or missing.
func (d ErrorDetail) CodeNumber() int {
	n, _ := strconv.Atoi(strings.Trim(string(d.Code), `"`))
	return n
}

// Summary is a short description of the error object.
func (d ErrorDetail) Summary() string {
	var parts []string
	for _, s := range []string{strings.Trim(string(d.Code), `"`), d.Type, d.Status} {
		if s != "" && s != "null" && !strings.Contains(strings.Join(parts, " "), s) {
			parts = append(parts, s)
		}
	}
	if d.Message != "" {
		parts = append(parts, d.Message)
	}
	return Excerpt([]byte(strings.Join(parts, ": ")))
}

// ParseErrorDetail extracts the error object of a body, reporting whether
// there was one.
func ParseErrorDetail(body []byte) (ErrorDetail, bool) {
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil || len(eb.Error) == 0 || string(eb.Error) == "null" {
		return ErrorDetail{}, false
	}
	var d ErrorDetail
	if json.Unmarshal(eb.Error, &d) != nil {
		var s string
		if json.Unmarshal(eb.Error, &s) != nil {
			return ErrorDetail{}, false
		}
		d.Message = s
	}
	return d, true
}

// refusalMarkers are the words by which servers say a request was blocked by
// a content policy (OpenAI content_policy_violation, Ark *SensitiveContent*,
// Gemini SAFETY, OpenRouter moderation "flagged").
var refusalMarkers = []string{"content_policy", "content policy", "content_filter", "safety", "sensitive", "moderation", "flagged", "prohibited_content"}

// IsRefusalText reports whether a provider error text names a content policy.
func IsRefusalText(s string) bool {
	s = strings.ToLower(s)
	for _, m := range refusalMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// ClassifyStatus turns a non-successful HTTP response into an *Error. body is
// (an excerpt of) the response body; variable is the key's configuration
// variable, named in auth errors.
func ClassifyStatus(provider, variable string, status int, h http.Header, body []byte) *Error {
	msg := Excerpt(body)
	if d, ok := ParseErrorDetail(body); ok {
		msg = d.Summary()
	}
	e := &Error{Provider: provider, Status: status, Message: msg}
	lower := strings.ToLower(string(body))
	switch {
	case status == http.StatusUnauthorized:
		e.Kind, e.Variable = KindAuth, variable
	case status == http.StatusForbidden:
		if IsRefusalText(lower) {
			e.Kind = KindRefusal
		} else {
			e.Kind, e.Variable = KindAuth, variable
		}
	case status == http.StatusPaymentRequired:
		e.Kind, e.Variable = KindNoCredits, variable
	case status == http.StatusTooManyRequests:
		e.Kind = KindRateLimit
		e.RetryAfter = ParseRetryAfter(h.Get("Retry-After"), time.Now())
	case status == http.StatusRequestTimeout:
		e.Kind = KindTimeout
	case status == http.StatusBadRequest && (strings.Contains(lower, "api_key_invalid") || strings.Contains(lower, "api key not valid")):
		// Gemini answers a bad key with 400.
		e.Kind, e.Variable = KindAuth, variable
	case status == http.StatusBadRequest && IsRefusalText(lower):
		e.Kind = KindRefusal
	case status == http.StatusBadRequest, status == http.StatusNotFound, status == http.StatusUnprocessableEntity,
		status == http.StatusRequestEntityTooLarge:
		e.Kind = KindBadRequest
	case status >= 500:
		e.Kind = KindServer
		e.RetryAfter = ParseRetryAfter(h.Get("Retry-After"), time.Now())
	default:
		e.Kind = KindBadRequest
	}
	return e
}

// ClassifyStreamError turns an error object received inside an HTTP 200
// stream (OpenRouter) into an *Error, using its numeric code as the status.
func ClassifyStreamError(provider, variable string, d ErrorDetail) *Error {
	code := d.CodeNumber()
	raw, _ := json.Marshal(map[string]ErrorDetail{"error": d})
	if code >= 400 && code < 600 {
		e := ClassifyStatus(provider, variable, code, http.Header{}, raw)
		e.Message = "in stream: " + e.Message
		return e
	}
	kind := KindServer
	if IsRefusalText(string(raw)) {
		kind = KindRefusal
	}
	return &Error{Provider: provider, Kind: kind, Message: "in stream: " + d.Summary()}
}

// ClassifyTransport turns a transport failure (dial, reset, cut body) into
// an *Error. Callers check their own context and watchdog first.
func ClassifyTransport(provider string, err error) *Error {
	e := &Error{Provider: provider, Kind: KindNetwork, Err: err}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Kind = KindTimeout
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.Message = "stream cut"
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Message = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		e.Message = "connection reset"
	}
	return e
}

// StatusError reads an excerpt of resp's body and classifies the response.
// The body is closed by the caller.
func StatusError(provider, variable string, resp *http.Response, secrets ...string) *Error {
	body := ReadExcerpt(resp.Body)
	e := ClassifyStatus(provider, variable, resp.StatusCode, resp.Header, body)
	e.Message = Redact(e.Message, secrets...)
	return e
}

// MalformedError reports a reply that could not be parsed.
func MalformedError(provider string, data []byte, err error) *Error {
	return &Error{Provider: provider, Kind: KindMalformed, Message: fmt.Sprintf("bad chunk %q", Excerpt(bytes.TrimSpace(data))), Err: err}
}
