package roundtable

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
)

//go:embed packs/*.json
var packFS embed.FS

// Text is a string in several languages, keyed by "en", "zh", ...
type Text map[string]string

// In returns the text in lang, falling back to English, then any language.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	if s, ok := t["en"]; ok {
		return s
	}
	for _, s := range t {
		return s
	}
	return ""
}

// Pack is a table: its seats, their roles and the workshop scenario. Packs
// are data (embedded defaults or a user's JSON file) so a channel can run
// another table without code changes.
type Pack struct {
	Schema       int              `json:"schema"`
	Name         string           `json:"name"`
	Title        Text             `json:"title"`
	Moderator    PackModerator    `json:"moderator"`
	DesignerSeat string           `json:"designer_seat"`
	Roles        map[string]*Role `json:"roles"`
	Seats        []Seat           `json:"seats"`
	Scenario     Text             `json:"scenario"`
	ImageStyle   Text             `json:"image_style"`
}

// PackModerator is how the bot itself appears.
type PackModerator struct {
	Name  Text   `json:"name"`
	Emoji string `json:"emoji"`
	Color string `json:"color"`
}

// Role is a role type a seat can hold (and switch to).
type Role struct {
	Label Text `json:"label"`
	Focus Text `json:"focus"`
	Style Text `json:"style"`
}

// Seat is one persona at the table.
type Seat struct {
	ID        string `json:"id"`
	Role      string `json:"role"`
	Emoji     string `json:"emoji"`
	Color     string `json:"color"`
	Age       int    `json:"age,omitempty"`
	Name      Text   `json:"name"`
	Bio       Text   `json:"bio"`
	AvatarURL string `json:"avatar_url,omitempty"`
}

// BuiltinPacks lists the names of the embedded packs.
func BuiltinPacks() []string {
	entries, _ := packFS.ReadDir("packs")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	return names
}

// LoadPack returns a built-in pack by name, or reads nameOrFile as a JSON
// file when it is not a built-in name.
func LoadPack(nameOrFile string) (*Pack, error) {
	if nameOrFile == "" {
		nameOrFile = "papercut"
	}
	data, err := packFS.ReadFile("packs/" + nameOrFile + ".json")
	if err != nil {
		data, err = os.ReadFile(nameOrFile)
		if err != nil {
			return nil, fmt.Errorf("load pack %q: not a built-in pack (%s) and not a readable file", nameOrFile, strings.Join(BuiltinPacks(), ", "))
		}
	}
	return ParsePack(data)
}

// ParsePack decodes and validates a pack.
func ParsePack(data []byte) (*Pack, error) {
	var p Pack
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse pack: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

var seatID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`) })

// Validate checks the pack and names the first bad field.
func (p *Pack) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("pack %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if p.Schema != 1 {
		bad("schema", "must be 1, got %d", p.Schema)
	}
	if p.Name == "" {
		bad("name", "is empty")
	}
	if len(p.Seats) < 2 || len(p.Seats) > 12 {
		bad("seats", "needs 2 to 12 seats, got %d", len(p.Seats))
	}
	if len(p.Roles) < 2 {
		bad("roles", "needs at least 2 role types for the role switch")
	}
	seen := map[string]bool{}
	for i, s := range p.Seats {
		f := fmt.Sprintf("seats[%d]", i)
		if !seatID().MatchString(s.ID) {
			bad(f+".id", "%q must match %s", s.ID, seatID())
		}
		if seen[s.ID] {
			bad(f+".id", "%q is used twice", s.ID)
		}
		seen[s.ID] = true
		if _, ok := p.Roles[s.Role]; !ok {
			bad(f+".role", "%q is not one of roles", s.Role)
		}
		if s.Name.In("en") == "" {
			bad(f+".name", "is empty")
		}
		for _, n := range s.Name {
			if l := strings.ToLower(n); strings.Contains(l, "discord") || strings.Contains(l, "clyde") {
				bad(f+".name", "%q may not contain \"discord\" or \"clyde\"", n)
			}
		}
	}
	if p.DesignerSeat != "" && !seen[p.DesignerSeat] {
		bad("designer_seat", "%q is not a seat id", p.DesignerSeat)
	}
	return errors.Join(errs...)
}

// Seat returns the seat with the given ID.
func (p *Pack) Seat(id string) (Seat, bool) {
	i := slices.IndexFunc(p.Seats, func(s Seat) bool { return s.ID == id })
	if i < 0 {
		return Seat{}, false
	}
	return p.Seats[i], true
}

// RoleLabel is the display label of a role type.
func (p *Pack) RoleLabel(role, lang string) string {
	if r, ok := p.Roles[role]; ok {
		return r.Label.In(lang)
	}
	return role
}

// Designer is the seat that presents the final design: the pack's
// designer_seat, else the first seat.
func (p *Pack) Designer() Seat {
	if s, ok := p.Seat(p.DesignerSeat); ok {
		return s
	}
	return p.Seats[0]
}
