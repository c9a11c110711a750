package main

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/tableround/tableround/bot/discord/discordfake"
)

// setupRequest asks the fake Discord for a guild with n text channels.
type setupRequest struct {
	Channels int `json:"channels"`
}

type setupReply struct {
	Guild    string   `json:"guild"`
	Channels []string `json:"channels"`
}

// mentionRequest posts "@bot content" as a person, with an optional photo.
type mentionRequest struct {
	Channel  string `json:"channel"`
	User     string `json:"user"`
	Content  string `json:"content"`
	FileName string `json:"file_name,omitempty"`
	FileType string `json:"file_type,omitempty"`
	FileData []byte `json:"file_data,omitempty"`
	// Photo, when FileData is empty, has the fake attach the generated
	// photo of this session (see photo), so the run process, whose memory
	// is measured as the bot's, never holds the N photos.
	Photo *int `json:"photo,omitempty"`
}

// fakeStats is the fake's view of the run.
type fakeStats struct {
	Connected   int               `json:"connected"`
	RateLimited int               `json:"rate_limited"`
	Violations  []string          `json:"violations"`
	Parents     map[string]string `json:"parents"` // thread → parent channel
}

func (f *fakeDiscord) setup(w http.ResponseWriter, r *http.Request) {
	var req setupRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	if f.guild == "" {
		f.guild = f.fake.NewID()
	}
	out := setupReply{Guild: f.guild}
	f.mu.Unlock()
	for range req.Channels {
		out.Channels = append(out.Channels, f.fake.AddChannel(discordfake.Channel{GuildID: out.Guild}).ID)
	}
	photos.make(req.Channels) // before the measurement starts
	writeJSONReply(w, out)
}

// photos are the sessions' generated photos, made in the fake's process at
// set-up so that neither making nor holding them counts as the bot's.
var photos photoCache

type photoCache struct {
	mu  sync.Mutex
	all [][]byte
}

func (c *photoCache) make(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.all); i < n; i++ {
		c.all = append(c.all, photo(i))
	}
}

func (c *photoCache) get(i int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i >= 0 && i < len(c.all) {
		return c.all[i]
	}
	return photo(i)
}

func (f *fakeDiscord) mention(w http.ResponseWriter, r *http.Request) {
	var req mentionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var files []discordfake.File
	if len(req.FileData) == 0 && req.Photo != nil {
		req.FileData = photos.get(*req.Photo)
	}
	if len(req.FileData) > 0 {
		files = append(files, discordfake.File{Name: req.FileName, ContentType: req.FileType, Data: req.FileData})
	}
	u := discordfake.User{ID: f.fake.NewID(), Name: req.User}
	id, err := f.fake.PostUser(req.Channel, u, req.Content, true, files...)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	writeJSONReply(w, map[string]string{"id": id})
}

func (f *fakeDiscord) records(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSONReply(w, f.writes)
}

func (f *fakeDiscord) stats(w http.ResponseWriter, _ *http.Request) {
	st := fakeStats{Connected: f.fake.Connected(), RateLimited: f.fake.RateLimited(),
		Violations: f.fake.Violations(), Parents: map[string]string{}}
	for _, c := range f.fake.Channels() {
		if c.ParentID != "" {
			st.Parents[c.ID] = c.ParentID
		}
	}
	writeJSONReply(w, st)
}

func writeJSONReply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
