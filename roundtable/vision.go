package roundtable

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/tableround/tableround/bot"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/transcript"
)

// The photo's description is made alongside the introductions: the vision
// call starts with the introductions step (describeAlongside) and the
// stories stage waits for what is left of it (describePhoto), so a session
// with a photo no longer waits for the vision model between the two.
//
// The introductions do not need the description, and it must not reach
// them: it enters the State (PhotoText, and so the shared context of every
// later prompt) only in the stories stage, after the introductions' six
// prompts were sent, whenever the vision call ends. The shared context
// stays append-only, as the prompt caches need (see appendContext): the
// introductions' context block (topic, channel memory) is a prefix of the
// stories' (topic, memory, photo, then the introductions' turns). The
// vision request shares no prefix with the table's prompts (its own
// system line and the image), so starting it earlier costs no cache hit.
//
// The description's message is opened in the stories stage, under its
// banner, as before; a description still streaming then is shown as it
// streams. The description is held in memory only: a session resumed
// after the introductions asks the vision model again in the stories
// stage. Run cancels and waits for a call still running when it returns.

// visionCall is one vision call running in the background.
type visionCall struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the call has ended; resp and err are set
	resp   providers.Response
	err    error

	mu    sync.Mutex
	text  strings.Builder // streamed so far
	shown bot.Stream      // the photo's message, once the stories stage opened it
}

// delta takes a streamed piece of the description and shows the text so
// far once the message is open.
func (v *visionCall) delta(d providers.Delta) error {
	v.mu.Lock()
	if d.Reset {
		v.text.Reset()
	}
	v.text.WriteString(d.Text)
	text, st := v.text.String(), v.shown
	v.mu.Unlock()
	if st != nil {
		st.Update("📷 " + text)
	}
	return nil
}

// show attaches the photo's message: what has streamed is shown now, the
// rest as it comes.
func (v *visionCall) show(st bot.Stream) {
	v.mu.Lock()
	v.shown = st
	text := v.text.String()
	v.mu.Unlock()
	if text != "" {
		st.Update("📷 " + text)
	}
}

// describeAlongside starts the vision call when the session has a photo
// not described yet. A photo that cannot be loaded now is left to the
// stories stage, which reports it.
func (s *talks) describeAlongside(ctx context.Context) {
	if s.vision != nil || s.st.PhotoText != "" || (s.photo == nil && s.st.Photo == nil) {
		return
	}
	data, err := s.preparedPhoto(ctx)
	if err != nil {
		s.log.Warn("the photo could not be loaded for the vision call; the stories stage retries", "err", err)
		return
	}
	s.startVision(ctx, data)
}

// startVision starts the vision call on the prepared photo's bytes.
func (s *talks) startVision(ctx context.Context, data []byte) {
	lang := s.lang()
	req := providers.Request{Tag: "vision/moderator/" + lang, MaxTokens: 500, Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: say(lang, "reply_lang")},
		{Role: providers.RoleUser, Content: say(lang, "vision"), Images: []providers.Image{{MIME: s.st.Photo.MIME, Data: data}}},
	}}
	vctx, cancel := context.WithCancel(ctx)
	v := &visionCall{cancel: cancel, done: make(chan struct{})}
	s.vision = v
	go func() {
		defer close(v.done)
		resp, err := s.deps.Vision.Stream(vctx, req, v.delta)
		s.addUsage(resp.Provider, resp.Usage)
		v.resp, v.err = resp, err
	}()
}

// stopVision cancels a vision call still running and waits for it to end.
func (s *talks) stopVision() {
	if v := s.vision; v != nil {
		v.cancel()
		<-v.done
		s.vision = nil
	}
}

// describePhoto shows the photo's description and puts it in the State,
// starting the vision call now if the introductions did not (a resumed
// session). A failed call is reported and the table goes on without it.
func (s *talks) describePhoto(ctx context.Context, data []byte) error {
	if s.vision == nil {
		s.startVision(ctx, data)
	}
	defer s.stopVision()
	st, err := s.out.open(ctx, bot.Post{From: s.moderator(), Kind: bot.KindNotice, Placeholder: s.ui("looking")})
	if err != nil {
		return fmt.Errorf("open photo message: %w", err)
	}
	v := s.vision
	v.show(st)
	select {
	case <-v.done:
	case <-ctx.Done():
		v.cancel()
		<-v.done
	}
	desc := StripThink(v.resp.Text)
	if err := v.err; err != nil || desc == "" {
		if ctx.Err() != nil {
			s.dl.closeLater(ctx, st, s.ui("cut"), false)
			return ctx.Err()
		}
		s.log.Warn("vision failed", "err", err)
		msg := fmt.Sprintf(s.ui("vision_failed"), providers.UserMessage(err), s.st.Meta.ID)
		s.dl.closeLater(ctx, st, msg, false)
		s.event(ctx, store.Event{Type: transcript.EventNote, Stage: StagePhoto, Text: msg})
		return nil
	}
	s.dl.closeLater(ctx, st, "📷 "+desc, false)
	s.st.PhotoText = desc
	s.event(ctx, store.Event{Type: transcript.EventPhoto, Stage: StagePhoto, Text: desc, Data: mustJSON(s.st.Photo)})
	return nil
}
