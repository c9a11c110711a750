package export

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// doc is a session laid out for rendering: every format reads it.
type doc struct {
	Session store.Session
	Start   transcript.SessionStart
	Seats   map[string]transcript.SeatInfo
	Stages  []stage
	End     *transcript.SessionEnd
	Images  []image // every image, in log order
	Demo    bool
}

// stage is one stage's events (for JSON) and blocks (for Markdown/HTML).
type stage struct {
	Name   string
	Title  string
	Events []store.Event
	Blocks []block
}

// block is one displayed element of a stage.
type block struct {
	Kind    string // speech, failure, list, result, kj, people, card, prompt, image, interjection, note
	Who     string // emoji + name
	Meta    string // role, round, regenerated
	Heading string
	Text    string
	Items   []item
	Image   *image
	Picture string // the drawn SVG of a KJ or vote result block (HTML only)
}

type item struct{ Label, Value string }

type image struct {
	Ref  transcript.ImageRef
	Data []byte // nil when the blob is gone
	MIME string // sniffed and checked: an image type, or ""
}

var stageTitles = map[string]string{
	"opening": "Opening", "introductions": "Introductions", "image_stories": "Image stories",
	"discussion": "Discussion", "keywords": "Keywords", "kj": "KJ grouping", "voting": "Voting",
	"people": "People's turn", "role_switch": "Role switch", "workshop": "Workshop in new roles",
	"design_cards": "Design cards", "final_design": "Final design", "closing": "Closing",
}

func stageTitle(name string) string {
	if t, ok := stageTitles[name]; ok {
		return t
	}
	if name == "" {
		return "Session"
	}
	return name
}

func build(s store.Session, events []store.Event, blob func(string) ([]byte, error)) *doc {
	d := &doc{Session: s, Seats: map[string]transcript.SeatInfo{}, Demo: s.Demo}
	var cur *stage
	open := func(name, title string) {
		d.Stages = append(d.Stages, stage{Name: name, Title: title})
		cur = &d.Stages[len(d.Stages)-1]
	}
	for _, ev := range events {
		switch ev.Type {
		case transcript.EventOutbox:
			continue // the chat's delivery record, not part of the transcript
		case transcript.EventSession:
			d.Start = decode[transcript.SessionStart](ev)
			d.Demo = d.Demo || d.Start.Demo
			for _, seat := range d.Start.Seats {
				d.Seats[seat.ID] = seat
			}
			continue
		case transcript.EventEnd:
			end := decode[transcript.SessionEnd](ev)
			if end.Status == "" {
				end.Status = store.Status(ev.Text)
			}
			d.End = &end
			continue
		case transcript.EventStage:
			title := ev.Text
			if title == "" {
				title = stageTitle(ev.Stage)
			}
			open(ev.Stage, title)
			continue
		}
		if cur == nil || (ev.Stage != "" && ev.Stage != cur.Name) {
			open(ev.Stage, stageTitle(ev.Stage))
		}
		cur.Events = append(cur.Events, ev)
		d.addBlock(cur, ev, blob)
	}
	return d
}

// who is a speaker's emoji and name.
func (d *doc) who(ev store.Event) string {
	seat, ok := d.Seats[ev.Seat]
	name := ev.Name
	if name == "" {
		name = seat.Name
	}
	if name == "" {
		name = ev.Seat
	}
	if ok && seat.Emoji != "" {
		return seat.Emoji + " " + name
	}
	return name
}

func (d *doc) addBlock(st *stage, ev store.Event, blob func(string) ([]byte, error)) {
	b := block{Kind: ev.Type, Who: d.who(ev), Text: ev.Text}
	switch ev.Type {
	case transcript.EventSpeech:
		sp := decode[transcript.Speech](ev)
		b.Kind, b.Meta = "speech", speechMeta(sp, d.Seats[ev.Seat].Role)
	case transcript.EventFailure:
		b.Kind = "failure"
	case transcript.EventKeywords:
		st.listItem("Keywords", item{b.Who, strings.Join(decode[transcript.Keywords](ev).Keywords, ", ")})
		return
	case transcript.EventVote:
		st.listItem("Votes", item{b.Who, voteText(decode[transcript.Vote](ev))})
		return
	case transcript.EventRoleSwitch:
		rs := decode[transcript.RoleSwitch](ev)
		st.listItem("Role switch", item{b.Who, rs.From + " → " + rs.To})
		return
	case transcript.EventVoteResult:
		b.Kind, b.Heading = "result", "Vote result"
		vr := decode[transcript.VoteResult](ev)
		b.Text, b.Items = resultText(vr)
		b.Picture = svgString(voteScene(vr, "Vote result"), "vote-chart", false)
	case transcript.EventKJ:
		kj := decode[transcript.KJ](ev)
		b.Kind, b.Heading, b.Text = "kj", "KJ groups", kj.Core
		b.Picture = svgString(kjScene(kj, "KJ affinity diagram"), "kj-diagram", false)
		for _, g := range kj.Groups {
			b.Items = append(b.Items, item{g.Name, strings.Join(g.Keywords, ", ")})
		}
	case transcript.EventPeople:
		b.Kind, b.Heading, b.Text = "people", "People's decision", peopleText(decode[transcript.People](ev))
	case transcript.EventCard:
		b.Kind, b.Meta = "card", d.Seats[ev.Seat].Role
	case transcript.EventImagePrompt:
		b.Kind, b.Heading = "prompt", "Image prompt"
	case transcript.EventImage, transcript.EventPhoto:
		ref := decode[transcript.ImageRef](ev)
		img := loadImage(ref, blob)
		d.Images = append(d.Images, img)
		b.Kind, b.Image = "image", &img
		if ev.Type == transcript.EventPhoto {
			b.Heading = "The photo, as the vision model saw it"
		}
	case transcript.EventInterjection:
		b.Kind, b.Who = "interjection", "💬 "+ev.Name
	default:
		b.Kind = "note"
	}
	st.Blocks = append(st.Blocks, b)
}

// listItem adds to the stage's last list block with that heading, or
// starts one, so six seats' keywords read as one list.
func (st *stage) listItem(heading string, it item) {
	if n := len(st.Blocks); n > 0 && st.Blocks[n-1].Kind == "list" && st.Blocks[n-1].Heading == heading {
		st.Blocks[n-1].Items = append(st.Blocks[n-1].Items, it)
		return
	}
	st.Blocks = append(st.Blocks, block{Kind: "list", Heading: heading, Items: []item{it}})
}

func speechMeta(sp transcript.Speech, seatRole string) string {
	var parts []string
	if r := sp.Role; r != "" {
		parts = append(parts, r)
	} else if seatRole != "" {
		parts = append(parts, seatRole)
	}
	if sp.Round > 0 {
		parts = append(parts, fmt.Sprintf("round %d", sp.Round))
	}
	if sp.Regenerated {
		parts = append(parts, "regenerated")
	}
	return strings.Join(parts, ", ")
}

func voteText(v transcript.Vote) string {
	parts := make([]string, 0, len(v.Keywords))
	for _, k := range v.Keywords {
		if r := v.Reasons[k]; r != "" {
			k += " (" + r + ")"
		}
		parts = append(parts, k)
	}
	return strings.Join(parts, "; ")
}

func resultText(r transcript.VoteResult) (string, []item) {
	text := fmt.Sprintf("Passed with at least %d votes: %s.", r.Threshold, strings.Join(r.Keywords, ", "))
	if r.Filled {
		text += " Topped up by vote count."
	}
	keys := make([]string, 0, len(r.Counts))
	for k := range r.Counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if r.Counts[keys[i]] != r.Counts[keys[j]] {
			return r.Counts[keys[i]] > r.Counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	items := make([]item, 0, len(keys))
	for _, k := range keys {
		items = append(items, item{k, fmt.Sprint(r.Counts[k])})
	}
	return text, items
}

func peopleText(p transcript.People) string {
	var what string
	switch p.Action {
	case "keep":
		what = "kept the vote"
	case "edit":
		what = "edited the keywords"
	case "skip":
		what = "skipped"
	case "timeout":
		what = "no answer in time; the vote stands"
	default:
		what = p.Action
	}
	if p.By != "" {
		what = p.By + " " + what
	}
	return fmt.Sprintf("%s: %s", what, strings.Join(p.Keywords, ", "))
}

// imageTypes are the types inlined or saved; anything else is not shown.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

func loadImage(ref transcript.ImageRef, blob func(string) ([]byte, error)) image {
	img := image{Ref: ref}
	if ref.Blob == "" {
		return img
	}
	data, err := blob(ref.Blob)
	if err != nil || len(data) == 0 {
		return img
	}
	img.Data = data
	if mt := http.DetectContentType(data); imageTypes[mt] {
		img.MIME = mt
	}
	return img
}

// ext is the file extension for an image's type.
func (img image) ext() string {
	switch img.MIME {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	}
	return ".bin"
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Facts are the session's metadata lines shown under the title.
func (d *doc) Facts() []item {
	s := d.Session
	model := s.Model
	if model == "" {
		model = d.Start.Model
	}
	all := []item{
		{"Session", s.ID}, {"Channel", s.Channel}, {"Status", string(s.Status)},
		{"Started", fmtTime(s.CreatedAt)}, {"Updated", fmtTime(s.UpdatedAt)},
		{"Started by", s.StarterName}, {"Language", s.Language}, {"Persona pack", s.Pack}, {"Model", model},
	}
	if s.Error != "" {
		all = append(all, item{"Note", s.Error})
	}
	out := all[:0]
	for _, it := range all {
		if it.Value != "" {
			out = append(out, it)
		}
	}
	return out
}

// usage is the session's totals: the end event's, else the session's.
func (d *doc) usage() providers.Usage {
	s := d.Session
	u := providers.Usage{InputTokens: s.InputTokens, CachedInputTokens: s.CachedInputTokens, OutputTokens: s.OutputTokens,
		CostUSD: s.CostUSD, Calls: s.Calls}
	if e := d.End; e != nil {
		u = providers.Usage{InputTokens: e.InputTokens, CachedInputTokens: e.CachedInputTokens, OutputTokens: e.OutputTokens,
			CostUSD: e.CostUSD, Calls: e.Calls}
	}
	return u
}

// UsageItems is the usage table: the model calls and one line of tokens
// in (of which cached from the providers' prompt caches), out and cost.
func (d *doc) UsageItems() []item {
	u := d.usage()
	return []item{{"Model calls", fmt.Sprint(u.Calls)}, {"Tokens", u.Line()}}
}

// SeatList returns the seats in the order the session listed them.
func (d *doc) SeatList() []transcript.SeatInfo { return d.Start.Seats }

const demoBanner = "Demo session: this ran on the built-in demo model. Its text is scripted, not written by an AI model."
