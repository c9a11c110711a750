package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLoggerWritesThroughSlog(t *testing.T) {
	var buf bytes.Buffer
	p := slogPrintf{slog.New(slog.NewJSONHandler(&buf, nil)).With("component", "redis")}
	p.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %s\n", 5, "refused")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q", buf.String())
	}
	if rec["msg"] != "redis: connection pool: failed to dial after 5 attempts: refused" || rec["level"] != "WARN" || rec["component"] != "redis" {
		t.Fatalf("record = %v", rec)
	}
}
