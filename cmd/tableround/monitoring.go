package main

import (
	"context"
	"errors"
	"time"

	"github.com/tableround/tableround/imagepipe"
	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/providers"
	"github.com/tableround/tableround/roundtable"
	"github.com/tableround/tableround/store"
)

// This file wires serve's metrics: the label values exposed at zero from
// start-up, the store decorator that counts failed operations, and the
// image pipeline's timings.

// photoFormats are the photo formats the image pipeline decodes.
var photoFormats = []string{imagepipe.FormatJPEG, imagepipe.FormatPNG, imagepipe.FormatGIF,
	imagepipe.FormatWebP, imagepipe.FormatBMP, imagepipe.FormatHEIC}

// imageReasons maps the image pipeline's failure kinds to metric reasons;
// anything else is "other".
var imageReasons = []struct {
	err    error
	reason string
}{
	{imagepipe.ErrTooLarge, "too_large"},
	{imagepipe.ErrTooManyPixels, "too_many_pixels"},
	{imagepipe.ErrUnknownFormat, "unknown_format"},
	{imagepipe.ErrCorrupt, "corrupt"},
	{imagepipe.ErrCannotFit, "cannot_fit"},
}

func imageReason(err error) string {
	for _, r := range imageReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "cancelled"
	}
	return "other"
}

// storeOps are the store operations storeMetrics counts.
var storeOps = []string{"create", "update", "append", "checkpoint", "blob", "lease", "ping"}

// monitoringLabels are the label values serve exposes at zero: the
// configured platforms, the chat providers, every model error kind, every
// stage, photo format, image failure reason and store operation.
func monitoringLabels(platforms []*platform, providerNames []string) ops.Labels {
	l := ops.Labels{Providers: providerNames, Stages: roundtable.Stages(), Formats: photoFormats, StoreOps: storeOps}
	for _, p := range platforms {
		l.Platforms = append(l.Platforms, p.name)
	}
	for k := providers.KindUnknown; k <= providers.KindCircuitOpen; k++ {
		l.ErrorKinds = append(l.ErrorKinds, k.String())
	}
	for _, r := range imageReasons {
		l.Reasons = append(l.Reasons, r.reason)
	}
	l.Reasons = append(l.Reasons, "cancelled", "other")
	return l
}

// observedPrepare runs the image pipeline and records its time or failure.
func observedPrepare(m *ops.Metrics) func(ctx context.Context, data []byte) (roundtable.PreparedImage, error) {
	return func(ctx context.Context, data []byte) (roundtable.PreparedImage, error) {
		r, err := photoGate.Prepare(ctx, data, imagepipe.DefaultOptions())
		if err != nil {
			m.ObserveImageFailure(imageReason(err))
			return roundtable.PreparedImage{}, err
		}
		m.ObserveImage(r.Input.Format, r.Duration)
		return roundtable.PreparedImage{MIME: r.MIME, Data: r.Data, Width: r.Width, Height: r.Height}, nil
	}
}

// storeMetrics counts the failed writes, leases and pings of a store in
// store_errors_total and the alert history. Answers that are not failures
// of the store (not found, a channel already locked, a lost lease, an
// caller that gave up) are not counted.
type storeMetrics struct {
	store.Store
	m *ops.Metrics
}

func (s storeMetrics) count(ctx context.Context, op string, err error) error {
	if err == nil || errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrLocked) ||
		errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrExists) {
		return err
	}
	s.m.ObserveStoreError(op, err)
	return err
}

func (s storeMetrics) CreateSession(ctx context.Context, ses store.Session) error {
	return s.count(ctx, "create", s.Store.CreateSession(ctx, ses))
}

func (s storeMetrics) UpdateSession(ctx context.Context, ses store.Session) error {
	return s.count(ctx, "update", s.Store.UpdateSession(ctx, ses))
}

func (s storeMetrics) Append(ctx context.Context, sessionID string, ev store.Event) (store.Event, error) {
	out, err := s.Store.Append(ctx, sessionID, ev)
	return out, s.count(ctx, "append", err)
}

func (s storeMetrics) SaveCheckpoint(ctx context.Context, sessionID string, cp store.Checkpoint) error {
	return s.count(ctx, "checkpoint", s.Store.SaveCheckpoint(ctx, sessionID, cp))
}

func (s storeMetrics) PutBlob(ctx context.Context, sessionID, name string, data []byte) error {
	return s.count(ctx, "blob", s.Store.PutBlob(ctx, sessionID, name, data))
}

func (s storeMetrics) AcquireLease(ctx context.Context, channel, sessionID, owner string, ttl time.Duration) (store.Lease, error) {
	l, err := s.Store.AcquireLease(ctx, channel, sessionID, owner, ttl)
	return l, s.count(ctx, "lease", err)
}

func (s storeMetrics) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	out, err := s.Store.RenewLease(ctx, l, ttl)
	return out, s.count(ctx, "lease", err)
}

func (s storeMetrics) Ping(ctx context.Context) error {
	return s.count(ctx, "ping", s.Store.Ping(ctx))
}
