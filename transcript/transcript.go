// Package transcript is the event schema of a session's log: the event
// types roundtable writes and export reads, with the payload each carries
// in store.Event.Data. It holds types only: no store, no rendering, no
// domain logic; everything a transcript shows must be here.
package transcript

import "github.com/tableround/tableround/store"

// Event types written by the engine, with the payload each carries in
// Event.Data. Export renders from these alone, so everything a transcript
// shows must be here.
const (
	// EventSession opens the log. Data: SessionStart.
	EventSession = "session"
	// EventStage marks a stage beginning. Stage is its name, Text its title.
	EventStage = "stage"
	// EventSpeech is a persona's completed speech. Seat, Name, Text; Data: Speech.
	EventSpeech = "speech"
	// EventFailure is a seat's turn that failed. Seat, Name, Text is the kind
	// sentence shown; Data: Failure.
	EventFailure = "failure"
	// EventKeywords is one seat's extracted keywords. Data: Keywords.
	EventKeywords = "keywords"
	// EventVote is one seat's ballot. Data: Vote.
	EventVote = "vote"
	// EventVoteResult is the consensus. Data: VoteResult.
	EventVoteResult = "vote_result"
	// EventKJ is the affinity grouping. Data: KJ.
	EventKJ = "kj"
	// EventPeople is the humans' keyword decision. Data: People.
	EventPeople = "people"
	// EventRoleSwitch is one seat's new role. Data: RoleSwitch.
	EventRoleSwitch = "role_switch"
	// EventCard is a design card (Text is the card). Seat, Name.
	EventCard = "card"
	// EventImagePrompt is the synthesised image prompt (Text).
	EventImagePrompt = "image_prompt"
	// EventImage is a generated or input image. Data: ImageRef.
	EventImage = "image"
	// EventPhoto is the description of the user's photo by the vision model
	// (Text). Data: ImageRef of the prepared photo.
	EventPhoto = "photo"
	// EventInterjection is a human's message to the table. Name, Text.
	EventInterjection = "interjection"
	// EventNote is a moderator line (Text).
	EventNote = "note"
	// EventEnd closes the log. Text is the status; Data: SessionEnd.
	EventEnd = "end"
)

// SessionStart is the payload of EventSession.
type SessionStart struct {
	Seats []SeatInfo `json:"seats"`
	Demo  bool       `json:"demo,omitempty"`
	Model string     `json:"model,omitempty"`
	Image bool       `json:"image,omitempty"`
}

// SeatInfo describes one seat at the table.
type SeatInfo struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Emoji string `json:"emoji"`
	Color string `json:"color"`
	Model string `json:"model,omitempty"`
}

// Speech is the payload of EventSpeech.
type Speech struct {
	Role         string `json:"role,omitempty"`
	Model        string `json:"model,omitempty"`
	InputTokens  int    `json:"input_tokens,omitempty"`
	OutputTokens int    `json:"output_tokens,omitempty"`
	CachedTokens int    `json:"cached_input_tokens,omitempty"` // of InputTokens
	Regenerated  bool   `json:"regenerated,omitempty"`
	Round        int    `json:"round,omitempty"`
}

// Failure is the payload of EventFailure: the error kind and the short,
// kind sentence people were shown. It goes into exports, so it never holds
// a provider's own text (that is logged).
type Failure struct {
	Kind  string `json:"kind"`
	Cause string `json:"cause"`
}

// Keywords is the payload of EventKeywords.
type Keywords struct {
	Keywords []string `json:"keywords"`
}

// Vote is the payload of EventVote.
type Vote struct {
	Keywords []string          `json:"keywords"`
	Reasons  map[string]string `json:"reasons,omitempty"`
}

// VoteResult is the payload of EventVoteResult.
type VoteResult struct {
	Keywords  []string       `json:"keywords"`
	Counts    map[string]int `json:"counts"`
	Threshold int            `json:"threshold"`
	Filled    bool           `json:"filled,omitempty"` // topped up by vote count
}

// KJ is the payload of EventKJ.
type KJ struct {
	Core   string    `json:"core,omitempty"`
	Groups []KJGroup `json:"groups"`
}

// KJGroup is one affinity group.
type KJGroup struct {
	Name     string   `json:"name"`
	Keywords []string `json:"keywords"`
}

// People is the payload of EventPeople.
type People struct {
	Action   string   `json:"action"` // "keep", "edit", "skip", "timeout"
	Keywords []string `json:"keywords"`
	By       string   `json:"by,omitempty"`
}

// RoleSwitch is the payload of EventRoleSwitch.
type RoleSwitch struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ImageRef points at a blob of the session.
type ImageRef struct {
	Blob   string `json:"blob"`
	MIME   string `json:"mime"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// SessionEnd is the payload of EventEnd.
type SessionEnd struct {
	Status       store.Status `json:"status"`
	InputTokens  int          `json:"input_tokens"`
	OutputTokens int          `json:"output_tokens"`
	CostUSD      float64      `json:"cost_usd,omitempty"`
	Calls        int          `json:"calls"`
	// CachedInputTokens is the part of InputTokens read from the
	// providers' prompt caches.
	CachedInputTokens int `json:"cached_input_tokens,omitempty"`
}

// EventOutbox is the chat's side of the log: what a session's chat is owed.
// Data: Outbox. Exports skip it; a resuming session reads it to bring the
// chat up to date before it goes on.
const EventOutbox = "outbox"

// Outbox operations.
const (
	OutboxOpen   = "open"   // message N was opened (Kind, Seat, Group)
	OutboxID     = "id"     // message N got a platform message (IDs)
	OutboxClosed = "closed" // message N's final text is decided (Text)
	OutboxShown  = "shown"  // message N's final text is shown
)

// Outbox is the payload of EventOutbox: one step in the life of one
// outbound message, numbered N within its session.
type Outbox struct {
	N     int      `json:"n"`
	Op    string   `json:"op"`
	Kind  int      `json:"kind,omitempty"`
	Seat  string   `json:"seat,omitempty"`
	Group string   `json:"group,omitempty"`
	IDs   []string `json:"ids,omitempty"`
	Text  string   `json:"text,omitempty"`
}
