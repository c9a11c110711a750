package telegramfake

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
)

// fileBook holds the files people and bots sent, by file_id and by the
// path getFile gives out for downloads, under its own lock.
type fileBook struct {
	maxDownload int64

	mu     sync.Mutex
	byID   map[string]*File
	byPath map[string]*File
	next   int
}

func newFileBook(maxDownload int64) fileBook {
	return fileBook{maxDownload: maxDownload, byID: map[string]*File{}, byPath: map[string]*File{}}
}

// store gives f its file_id and a download path.
func (fb *fileBook) store(f *File) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	fb.next++
	f.ID = fmt.Sprintf("file%d", fb.next)
	fb.byID[f.ID] = f
	fb.byPath[fmt.Sprintf("documents/file_%d", fb.next)] = f
}

// getFile serves the getFile method: the file's path, for files of at
// most maxDownload bytes (Telegram's 20 MB).
func (fb *fileBook) getFile(w http.ResponseWriter, p params) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	f := fb.byID[p.str("file_id")]
	if f == nil {
		fail(w, http.StatusBadRequest, "Bad Request: invalid file_id")
		return
	}
	size := f.size()
	if size > fb.maxDownload {
		fail(w, http.StatusBadRequest, "Bad Request: file is too big")
		return
	}
	path := ""
	for k, v := range fb.byPath {
		if v == f {
			path = k
		}
	}
	answer(w, map[string]any{"file_id": f.ID, "file_unique_id": "u" + f.ID, "file_size": size, "file_path": path})
}

// download serves /file/bot<token>/<path> (the token already checked).
func (fb *fileBook) download(w http.ResponseWriter, path string) {
	fb.mu.Lock()
	f := fb.byPath[path]
	fb.mu.Unlock()
	if f == nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, _ = w.Write(f.Data)
}

func (f *File) size() int64 {
	if f.Size > 0 {
		return f.Size
	}
	return int64(len(f.Data))
}
