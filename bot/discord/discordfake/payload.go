package discordfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// readPayload decodes a JSON or multipart (payload_json + files[n]) body.
func readPayload(r *http.Request) (map[string]any, []File, error) {
	p := map[string]any{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, nil, err
		}
		if v := r.MultipartForm.Value["payload_json"]; len(v) > 0 {
			if err := json.Unmarshal([]byte(v[0]), &p); err != nil {
				return nil, nil, err
			}
		}
		var files []File
		for i := 0; ; i++ {
			fh := r.MultipartForm.File["files["+itoa(i)+"]"]
			if len(fh) == 0 {
				break
			}
			f, err := fh[0].Open()
			if err != nil {
				return nil, nil, err
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			files = append(files, File{Name: fh[0].Filename, ContentType: fh[0].Header.Get("Content-Type"), Data: data})
		}
		return p, files, nil
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, err
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, nil, err
		}
	}
	return p, nil, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

// checkWrite enforces the rules every create, edit and interaction
// response must follow, recording what it breaks. It returns false after
// writing a 400.
func (v *violationLog) checkWrite(w http.ResponseWriter, route string, p map[string]any, create bool, files []File) bool {
	am, ok := p["allowed_mentions"].(map[string]any)
	if !ok {
		v.violate("%s: no allowed_mentions", route)
	} else if parse, ok := am["parse"].([]any); !ok || len(parse) > 0 {
		v.violate("%s: allowed_mentions.parse is %v, want []", route, am["parse"])
	}
	if c, ok := p["content"].(string); ok && utf8.RuneCountInString(c) > 2000 {
		v.violate("%s: content is %d characters", route, utf8.RuneCountInString(c))
		writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body: content: Must be 2000 or fewer in length.")
		return false
	}
	if embeds, ok := p["embeds"].([]any); ok {
		for _, e := range embeds {
			if m, ok := e.(map[string]any); ok {
				if d, _ := m["description"].(string); utf8.RuneCountInString(d) > 4096 {
					v.violate("%s: embed description is %d characters", route, utf8.RuneCountInString(d))
					writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body: embeds.description")
					return false
				}
			}
		}
	}
	if u, ok := p["username"].(string); ok {
		l := strings.ToLower(u)
		if strings.Contains(l, "discord") || strings.Contains(l, "clyde") || utf8.RuneCountInString(u) > 80 {
			v.violate("%s: username %q refused", route, u)
			writeErr(w, http.StatusBadRequest, 50035, "Invalid Form Body: username")
			return false
		}
	}
	if create {
		c, _ := p["content"].(string)
		e, _ := p["embeds"].([]any)
		k, _ := p["components"].([]any)
		if c == "" && len(e) == 0 && len(k) == 0 && len(files) == 0 {
			v.violate("%s: empty message", route)
			writeErr(w, http.StatusBadRequest, 50006, "Cannot send an empty message")
			return false
		}
	}
	return true
}

// apply writes a payload into a message (create or edit).
func (m *Message) apply(p map[string]any, files []File) {
	if c, ok := p["content"].(string); ok {
		m.Content = c
	}
	if e, ok := p["embeds"].([]any); ok {
		m.Embeds = nil
		for _, x := range e {
			if em, ok := x.(map[string]any); ok {
				m.Embeds = append(m.Embeds, em)
			}
		}
	}
	if k, ok := p["components"]; ok {
		m.Components, _ = json.Marshal(k)
	}
	if f, ok := p["flags"].(float64); ok {
		m.Flags = int(f)
	}
	m.Files = append(m.Files, files...)
	m.History = append(m.History, m.Content)
	if m.seq != nil {
		*m.seq++
		m.Writes = append(m.Writes, *m.seq)
	}
	d := ""
	if len(m.Embeds) > 0 {
		d, _ = m.Embeds[0]["description"].(string)
	}
	m.EmbedHistory = append(m.EmbedHistory, d)
}

// json is the message as Discord returns it.
func (m *Message) json(botID string) map[string]any {
	author := map[string]any{"id": m.AuthorID, "username": m.Username, "bot": m.AuthorID == botID || m.WebhookID != ""}
	var atts []map[string]any
	for i, f := range m.Files {
		atts = append(atts, map[string]any{"id": m.ID + itoa(i), "filename": f.Name, "content_type": f.ContentType, "size": len(f.Data)})
	}
	out := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "author": author, "type": 0,
		"timestamp": m.Created.UTC().Format(time.RFC3339Nano), "flags": m.Flags, "mentions": []any{},
		"embeds": m.Embeds, "attachments": atts,
	}
	if m.WebhookID != "" {
		out["webhook_id"] = m.WebhookID
	}
	if len(m.Components) > 0 {
		out["components"] = json.RawMessage(m.Components)
	}
	return out
}
