package providers

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies a provider failure, which decides whether it is retried
// and what people in a chat are told.
type Kind int

// Failure kinds.
const (
	KindUnknown     Kind = iota
	KindAuth             // 401/403, or a missing key: fail fast, fix the configuration
	KindBadRequest       // 400/404/422: fail fast
	KindRefusal          // content policy refusal: a kind message, not a configuration error
	KindRateLimit        // 429: retry after the hint
	KindServer           // 5xx: retry with backoff
	KindTimeout          // no first byte, stream stalled, or deadline: retry
	KindNetwork          // connection refused/reset, stream cut: retry
	KindMalformed        // the reply could not be parsed: retry
	KindEmpty            // reasoning used the budget and no text came: retry once
	KindNoCredits        // OpenRouter 402: fail fast
	KindCircuitOpen      // the provider's circuit breaker is open
)

var kindNames = map[Kind]string{
	KindUnknown: "unknown", KindAuth: "auth", KindBadRequest: "bad_request", KindRefusal: "refusal",
	KindRateLimit: "rate_limit", KindServer: "server", KindTimeout: "timeout", KindNetwork: "network",
	KindMalformed: "malformed", KindEmpty: "empty", KindNoCredits: "no_credits", KindCircuitOpen: "circuit_open",
}

func (k Kind) String() string { return kindNames[k] }

// Retryable reports whether a failure of this kind may succeed when tried again.
func (k Kind) Retryable() bool {
	switch k {
	case KindRateLimit, KindServer, KindTimeout, KindNetwork, KindMalformed, KindEmpty:
		return true
	}
	return false
}

// Error is the typed error every provider client returns. Message never
// contains a key or a raw provider body longer than a short excerpt.
type Error struct {
	Provider   string        // "openrouter", "gemini", ...
	Kind       Kind          // classification
	Status     int           // HTTP status, 0 when none
	RetryAfter time.Duration // server hint, 0 when none
	Variable   string        // the configuration variable to fix, for auth errors
	Message    string        // short cause, safe for logs
	Err        error         // wrapped cause, may be nil
}

func (e *Error) Error() string {
	s := e.Provider + ": " + e.Kind.String()
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Variable != "" {
		s += " (check " + e.Variable + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or KindUnknown when err is not an *Error.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return KindUnknown
}

// UserMessage is the short, kind sentence shown to people in a chat for a
// failed model call. It never includes the cause.
func UserMessage(err error) string {
	switch KindOf(err) {
	case KindAuth, KindNoCredits, KindBadRequest:
		return "the model service refused the request; the operator needs to check its configuration"
	case KindRefusal:
		return "the model declined to answer this one"
	case KindRateLimit, KindCircuitOpen:
		return "the model service is busy right now"
	case KindTimeout:
		return "the model took too long to answer"
	default:
		return "the model could not answer this time"
	}
}
