package export

import (
	"encoding/json"
	"io"

	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// SchemaVersion is the "schema_version" of the JSON export (README.md).
const SchemaVersion = 1

// Document is the JSON export, schema_version 1:
//
//	{
//	  "schema_version": 1,
//	  "session": {store.Session: id, channel, topic, language, pack, status, ...},
//	  "demo": true|false,           // ran on the built-in demo model
//	  "model": "...",
//	  "seats": [{id, name, role, emoji, color, model}],
//	  "stages": [{"name": "discussion", "title": "Discussion", "events": [store.Event...]}],
//	  "end": {status, input_tokens, output_tokens, cost_usd, calls} | absent,
//	  "usage": {input_tokens, cached_input_tokens, output_tokens, cost_usd, calls, text},
//	  "images": [{blob, mime, width, height, data_base64 | missing: true}]
//	}
//
// Events keep their seq, time, type, stage, seat, name, text and data
// (the payload of transcript/transcript.go for their type). The session and end
// events are lifted out of the stages into "seats", "demo", "model" and
// "end".
type Document struct {
	SchemaVersion int                    `json:"schema_version"`
	Session       store.Session          `json:"session"`
	Demo          bool                   `json:"demo"`
	Model         string                 `json:"model,omitempty"`
	Seats         []transcript.SeatInfo  `json:"seats"`
	Stages        []Stage                `json:"stages"`
	End           *transcript.SessionEnd `json:"end,omitempty"`
	Usage         Usage                  `json:"usage"`
	Images        []Image                `json:"images"`
}

// Stage is one stage and its events, in log order.
type Stage struct {
	Name   string        `json:"name"`
	Title  string        `json:"title"`
	Events []store.Event `json:"events"`
}

// Usage is the session's token and cost totals. CachedInputTokens is the
// part of InputTokens the providers read from their prompt caches; Text is
// the line people read ("tokens in 84,210 (71,004 cached) · out 9,870 ·
// about $0.012").
type Usage struct {
	InputTokens       int     `json:"input_tokens"`
	CachedInputTokens int     `json:"cached_input_tokens"`
	OutputTokens      int     `json:"output_tokens"`
	CostUSD           float64 `json:"cost_usd"`
	Calls             int     `json:"calls"`
	Text              string  `json:"text"`
}

// Image is an image of the session with its bytes, when still stored.
type Image struct {
	transcript.ImageRef
	Data    []byte `json:"data_base64,omitempty"`
	Missing bool   `json:"missing,omitempty"`
}

func renderJSON(w io.Writer, d *doc) error {
	out := Document{
		SchemaVersion: SchemaVersion, Session: d.Session, Demo: d.Demo, Model: d.Start.Model,
		Seats: d.Start.Seats, End: d.End, Stages: []Stage{}, Images: []Image{},
	}
	u := d.usage()
	out.Usage = Usage{InputTokens: u.InputTokens, CachedInputTokens: u.CachedInputTokens, OutputTokens: u.OutputTokens,
		CostUSD: u.CostUSD, Calls: u.Calls, Text: u.Line()}
	if out.Seats == nil {
		out.Seats = []transcript.SeatInfo{}
	}
	if out.Model == "" {
		out.Model = d.Session.Model
	}
	for _, st := range d.Stages {
		events := st.Events
		if events == nil {
			events = []store.Event{}
		}
		out.Stages = append(out.Stages, Stage{Name: st.Name, Title: st.Title, Events: events})
	}
	for _, img := range d.Images {
		ref := img.Ref
		if img.MIME != "" {
			ref.MIME = img.MIME
		}
		out.Images = append(out.Images, Image{ImageRef: ref, Data: img.Data, Missing: img.Data == nil})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(true)
	return enc.Encode(out)
}
