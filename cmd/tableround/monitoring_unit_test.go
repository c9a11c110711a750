package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tableround/tableround/ops"
	"github.com/tableround/tableround/store"
	"github.com/tableround/tableround/store/bolt"
)

// metricsText is the /metrics exposition of m.
func metricsText(t *testing.T, m *ops.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	ops.NewServer(ops.Config{}, ops.ServerOptions{Metrics: m}).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// failingStore is a real Bolt store whose writes and pings fail with err.
type failingStore struct {
	store.Store
	err error
}

func (s failingStore) Append(context.Context, string, store.Event) (store.Event, error) {
	return store.Event{}, s.err
}
func (s failingStore) Ping(context.Context) error { return s.err }

func TestStoreMetricsCountsFailuresOnly(t *testing.T) {
	t.Parallel()
	bolt, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	m := ops.NewMetrics()
	m.Expose(ops.Labels{StoreOps: storeOps})
	ctx := context.Background()
	down := fmt.Errorf("redis: %w", store.ErrUnavailable)
	st := storeMetrics{Store: failingStore{Store: bolt, err: down}, m: m}
	_, _ = st.Append(ctx, "s1", store.Event{})
	_ = st.Ping(ctx)
	// Not failures of the store: a missing session, a caller that gave up.
	if _, err := st.GetSession(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSession = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_ = st.Ping(cctx)
	ok := storeMetrics{Store: bolt, m: m}
	if err := ok.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	body := metricsText(t, m)
	for _, want := range []string{
		`tableround_store_errors_total{op="append"} 1`,
		`tableround_store_errors_total{op="ping"} 1`,
		`tableround_store_errors_total{op="checkpoint"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if got := m.Alerts().Lines(0); !strings.Contains(got, "store_error ping") || !strings.Contains(got, "store_error append") {
		t.Errorf("alert history = %q", got)
	}
}

func TestObservedPrepareRecordsTimesAndFailures(t *testing.T) {
	t.Parallel()
	m := ops.NewMetrics()
	prepare := observedPrepare(m)
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	if _, err := prepare(context.Background(), buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := prepare(context.Background(), []byte("not an image at all")); err == nil {
		t.Fatal("garbage was prepared")
	}
	truncated := buf.Bytes()[:len(buf.Bytes())/2]
	_, _ = prepare(context.Background(), truncated)
	body := metricsText(t, m)
	for _, want := range []string{
		`tableround_image_pipeline_duration_seconds_count{format="png"} 1`,
		`tableround_image_pipeline_failures_total{reason="unknown_format"} 1`,
		`tableround_image_pipeline_failures_total{reason="corrupt"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
