package providers_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
)

func TestSSEReader(t *testing.T) {
	in := ": OPENROUTER PROCESSING\r\n\r\ndata: {\"a\":1}\n\nevent: x\ndata: one\ndata: two\n\ndata: " + strings.Repeat("z", 70_000) + "\n\ndata: last"
	r := providers.NewSSEReader(strings.NewReader(in))
	want := []providers.SSEEvent{{Comment: true, Data: "OPENROUTER PROCESSING"}, {Data: `{"a":1}`},
		{Name: "x", Data: "one\ntwo"}, {Data: strings.Repeat("z", 70_000)}, {Data: "last"}}
	for i, w := range want {
		ev, err := r.Next()
		if err != nil || ev != w {
			t.Fatalf("event %d = %+v, %v", i, ev, err)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v", err)
	}
}

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   providers.Kind
	}{
		{401, `{"error":{"message":"bad key"}}`, providers.KindAuth},
		{403, `{"error":{"code":403,"message":"Input was flagged by moderation"}}`, providers.KindRefusal},
		{403, `{"error":"forbidden"}`, providers.KindAuth},
		{402, `{}`, providers.KindNoCredits},
		{400, `{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}`, providers.KindAuth},
		{400, `{"error":{"code":"InputTextSensitiveContentDetected"}}`, providers.KindRefusal},
		{422, `{}`, providers.KindBadRequest},
		{408, ``, providers.KindTimeout},
		{429, ``, providers.KindRateLimit},
		{502, `<html>bad gateway</html>`, providers.KindServer},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			e := providers.ClassifyStatus("p", "KEY_VAR", tc.status, http.Header{}, []byte(tc.body))
			if e.Kind != tc.want {
				t.Errorf("%d %s: %v", tc.status, tc.body, e)
			}
		})
	}
	long := providers.ClassifyStatus("p", "", 500, http.Header{}, []byte(strings.Repeat("x", 5000)))
	if len(long.Message) > 300 {
		t.Errorf("message not cut: %d", len(long.Message))
	}
	if d := providers.ClassifyStreamError("p", "", providers.ErrorDetail{Code: []byte(`"server_error"`), Message: "boom"}); d.Kind != providers.KindServer {
		t.Errorf("stream error %v", d)
	}
}

// BenchmarkSSEReader reads a typical streamed reply (200 small chunks);
// B/op is what one stream's reader costs.
func BenchmarkSSEReader(b *testing.B) {
	var in strings.Builder
	for range 200 {
		in.WriteString(`data: {"choices":[{"delta":{"content":"four tokens of text"}}]}` + "\n\n")
	}
	in.WriteString("data: [DONE]\n\n")
	src := in.String()
	b.ReportAllocs()
	for b.Loop() {
		r := providers.NewSSEReader(strings.NewReader(src))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
