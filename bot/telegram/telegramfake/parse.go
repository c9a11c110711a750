package telegramfake

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// params are a call's fields as strings (nested objects as JSON text, the
// way go-telegram/bot puts them in multipart fields) and its uploads.
type params struct {
	v     map[string]string
	files map[string]*File
}

func (p params) str(k string) string { return p.v[k] }

func (p params) int64(k string) int64 {
	n, _ := strconv.ParseInt(strings.Trim(p.v[k], `"`), 10, 64)
	return n
}

func (p params) has(k string) bool { _, ok := p.v[k]; return ok }

// parseParams reads multipart/form-data, JSON or urlencoded bodies and the
// query string.
func parseParams(r *http.Request) (params, error) {
	p := params{v: map[string]string{}, files: map[string]*File{}}
	for k, vs := range r.URL.Query() {
		p.v[k] = vs[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			if strings.Contains(err.Error(), "EOF") { // go-telegram/bot sends an empty body for no params
				return p, nil
			}
			return p, fmt.Errorf("parse multipart: %w", err)
		}
		for k, vs := range r.MultipartForm.Value {
			p.v[k] = vs[0]
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return p, err
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return p, err
			}
			p.files[k] = &File{Name: fhs[0].Filename, MIME: fhs[0].Header.Get("Content-Type"), Data: data}
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return p, fmt.Errorf("parse json: %w", err)
		}
		for k, raw := range m {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				p.v[k] = s
			} else {
				p.v[k] = string(raw)
			}
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return p, fmt.Errorf("parse form: %w", err)
		}
		for k, vs := range r.PostForm {
			p.v[k] = vs[0]
		}
	}
	return p, nil
}

var (
	tagRe    = regexp.MustCompile(`^<(/?)([a-zA-Z-]+)((?:\s+[a-zA-Z-]+(?:="[^"<>]*")?)*)\s*>`)
	entityRe = regexp.MustCompile(`^&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);`)
	htmlTags = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true,
		"strike": true, "del": true, "code": true, "pre": true, "a": true, "tg-spoiler": true, "span": true,
		"blockquote": true, "tg-emoji": true}
)

// parseHTML checks text the way Telegram's HTML parse mode does (supported
// tags, balanced, only the named entities it knows) and returns the plain
// text. The error is worded like Telegram's "can't parse entities".
func parseHTML(text string) (string, error) {
	var out strings.Builder
	var open []string
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			m := tagRe.FindStringSubmatch(text[i:])
			if m == nil || !htmlTags[strings.ToLower(m[2])] {
				return "", fmt.Errorf("can't parse entities: unsupported start tag at byte offset %d", i)
			}
			name := strings.ToLower(m[2])
			if m[1] == "/" {
				if len(open) == 0 || open[len(open)-1] != name {
					return "", fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag at byte offset %d", i)
				}
				open = open[:len(open)-1]
			} else {
				open = append(open, name)
			}
			i += len(m[0])
		case '&':
			m := entityRe.FindString(text[i:])
			if m == "" {
				// Telegram accepts a lone '&' that starts no entity; we
				// are stricter, so escaping bugs show.
				return "", fmt.Errorf("can't parse entities: unescaped '&' at byte offset %d", i)
			}
			out.WriteString(html.UnescapeString(m))
			i += len(m)
		case '>':
			return "", fmt.Errorf("can't parse entities: unescaped '>' at byte offset %d", i)
		default:
			out.WriteByte(text[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag %q", open[len(open)-1])
	}
	return out.String(), nil
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
