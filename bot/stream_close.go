package bot

// Drop ends the writer without a final text: nothing more is sent, and no
// slot of its budget is spent on it (a draft preview, whose final text
// goes as a message of its own). A writer waiting for time or a slot ends
// once the context it was made with is cancelled; the caller cancels it.
func (w *StreamWriter) Drop() {
	w.mu.Lock()
	if !w.closed {
		w.closed, w.dropped = true, true
	}
	w.mu.Unlock()
	w.poke()
}

func (w *StreamWriter) isDropped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// showsFinal tells whether the messages already show the final text (the
// placeholder when there is none), so finishing sends nothing.
func (w *StreamWriter) showsFinal() bool {
	w.mu.Lock()
	text := w.final
	w.mu.Unlock()
	if text == "" {
		text = w.o.Placeholder
	}
	parts := Split(text, w.o.Limit, w.o.Measure)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(parts) != len(w.shown) {
		return false
	}
	for i, p := range parts {
		if w.shown[i] != p {
			return false
		}
	}
	return true
}
