package roundtable

import (
	"context"
	"fmt"

	"github.com/tableround/tableround/transcript"
)

// stagePreparePhoto is the session's first step when it was started with a
// photo: the decode, orientation, resize and encode (Deps.Prepare) run in
// the session's goroutine, checkpointed like any step, and never inside
// the manager's Handle or an adapter's queue. It is not a stage of the
// table (no banner, no metric).
const stagePreparePhoto = "prepare_photo"

// photoBlob is the store name of the prepared photo.
const photoBlob = "photo"

// preparePhoto prepares the raw upload, stores the result (for a resumed
// session and for exports) and keeps it in memory for the stories stage.
func (s *talks) preparePhoto(ctx context.Context) error {
	if s.upload == nil {
		// Resumed before the photo was prepared: the raw upload lived in
		// the process that died (no checkpoint precedes this step, so this
		// only happens to a state written by hand).
		return fmt.Errorf("prepare photo: the upload was lost with the process that received it")
	}
	img, err := s.deps.Prepare(ctx, s.upload)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.host.note(ctx, "⚠️ "+userMessage(err, s.ui("photo_failed")))
		return fmt.Errorf("prepare photo: %w", err)
	}
	if err := s.deps.Store.PutBlob(ctx, s.st.Meta.ID, photoBlob, img.Data); err != nil {
		return fmt.Errorf("store photo: %w", err)
	}
	s.mu.Lock()
	s.st.Photo = &transcript.ImageRef{Blob: photoBlob, MIME: img.MIME, Width: img.Width, Height: img.Height}
	s.mu.Unlock()
	s.upload, s.photo = nil, &img
	return nil
}

// preparedPhoto is the prepared photo's bytes: from memory, or from the
// store when the session was resumed.
func (s *talks) preparedPhoto(ctx context.Context) ([]byte, error) {
	if s.photo != nil {
		return s.photo.Data, nil
	}
	if s.st.Photo == nil {
		return nil, fmt.Errorf("load photo: the session has no prepared photo")
	}
	data, err := s.deps.Store.GetBlob(ctx, s.st.Meta.ID, s.st.Photo.Blob)
	if err != nil {
		return nil, fmt.Errorf("load photo: %w", err)
	}
	s.photo = &PreparedImage{MIME: s.st.Photo.MIME, Data: data, Width: s.st.Photo.Width, Height: s.st.Photo.Height}
	return data, nil
}
