// Package providers holds the provider-neutral types of model calls: chat
// requests, streamed deltas, usage, image generation and the typed errors
// every provider client returns.
//
// It owns no transport. Concrete clients live in sub-packages (openai for
// every OpenAI-compatible server, gemini, doubao, demo); the failure policy
// shared by all of them (retries, backoff, circuit breaking) lives here so
// that it exists in one place. This package must not know about sessions,
// personas or chat platforms.
package providers

import (
	"context"
	"time"
)

// Role is the author of one chat message.
type Role string

// The roles of a chat conversation.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Image is an image sent to a vision model: the encoded bytes and their
// real MIME type (image/jpeg, image/png, ...).
type Image struct {
	MIME string
	Data []byte
}

// Message is one turn of a conversation. Images are only sent on user
// messages and only to models that can see them.
type Message struct {
	Role    Role
	Content string
	Images  []Image
}

// Request is one chat completion. Model may be empty, in which case the
// client's configured default model is used.
type Request struct {
	Model       string
	Messages    []Message
	MaxTokens   int      // 0 means the client's default
	Temperature *float64 // nil means the provider's default
	// Tag labels the call in logs and metrics (e.g. "discussion/craftsman").
	Tag string
}

// Delta is one piece of a streamed reply.
//
// Text is visible reply text with any <think> blocks already removed.
// Reasoning is hidden model reasoning (shown to nobody, but it proves the
// stream is alive). Reset tells the consumer to discard all text received so
// far because the call is being regenerated after a failure mid-stream.
type Delta struct {
	Text      string
	Reasoning string
	Reset     bool
}

// StreamFunc receives deltas in order. Returning an error stops the stream
// and the call returns that error.
type StreamFunc func(Delta) error

// Response is the outcome of a completed call.
type Response struct {
	Text         string // full visible text, <think> removed
	Reasoning    string
	FinishReason string // "stop", "length", ...
	Model        string // the model that answered
	Provider     string // e.g. "openrouter"
	Usage        Usage
	// Regenerated is true when the reply was produced by a retry after a
	// failure that happened after visible text had been streamed.
	Regenerated bool
	// Latency from sending the request to the first visible token.
	FirstToken time.Duration
}

// ChatModel streams one chat completion. Implementations call fn for every
// delta and return the complete response. They must honour ctx and must never
// return error text as if it were the model's reply.
type ChatModel interface {
	Stream(ctx context.Context, req Request, fn StreamFunc) (Response, error)
}

// ImageRequest asks an image model for pictures.
type ImageRequest struct {
	Model  string
	Prompt string
	Size   string // "1024x1024"
	N      int
}

// GeneratedImage is one generated picture, already downloaded.
type GeneratedImage struct {
	MIME string
	Data []byte
	// SourceURL is where it was downloaded from (expires); informative only.
	SourceURL string
}

// ImageGenerator creates images from a text prompt.
type ImageGenerator interface {
	Generate(ctx context.Context, req ImageRequest) ([]GeneratedImage, Usage, error)
}
