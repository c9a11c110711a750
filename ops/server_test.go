package ops

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestHealthz(t *testing.T) {
	s := NewServer(Config{}, ServerOptions{Store: func(context.Context) error { return errors.New("down") }})
	rec := get(t, s.Handler(), "/healthz")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Fatalf("healthz = %d %q, want 200 ok even with the store down", rec.Code, rec.Body.String())
	}
}

func TestReadyz(t *testing.T) {
	connected := map[string]PlatformState{"discord": {State: StateConnected}}
	tests := []struct {
		name      string
		opts      ServerOptions
		wantCode  int
		wantStore Check
		wantPlat  map[string]PlatformState
		wantCirc  map[string]string
		wantPend  int
	}{
		{
			name:      "no checks",
			opts:      ServerOptions{},
			wantCode:  http.StatusOK,
			wantStore: Check{OK: true},
			wantPlat:  map[string]PlatformState{},
			wantCirc:  map[string]string{},
		},
		{
			name: "all well",
			opts: ServerOptions{
				Store:     func(context.Context) error { return nil },
				Platforms: func() map[string]PlatformState { return connected },
				Circuits:  func() map[string]string { return map[string]string{"openrouter": "closed"} },
				Pending:   func() int { return 3 },
			},
			wantCode:  http.StatusOK,
			wantStore: Check{OK: true},
			wantPlat:  connected,
			wantCirc:  map[string]string{"openrouter": "closed"},
			wantPend:  3,
		},
		{
			name: "store down",
			opts: ServerOptions{
				Store:     func(context.Context) error { return errors.New("dial redis://u:hunter2@redis:6379: refused") },
				Platforms: func() map[string]PlatformState { return connected },
				Pending:   func() int { return 7 },
			},
			wantCode:  http.StatusServiceUnavailable,
			wantStore: Check{Error: "dial redis://u:" + Redacted + "@redis:6379: refused"},
			wantPlat:  connected,
			wantCirc:  map[string]string{},
			wantPend:  7,
		},
		{
			name: "platform failure stays ready",
			opts: ServerOptions{
				Store: func(context.Context) error { return nil },
				Platforms: func() map[string]PlatformState {
					return map[string]PlatformState{
						"discord":  {State: StateConnected},
						"telegram": {State: StateFailed, Error: "GET https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe: 401"},
					}
				},
				Circuits: func() map[string]string { return map[string]string{"openai": "open", "gemini": "half-open"} },
			},
			wantCode:  http.StatusOK,
			wantStore: Check{OK: true},
			wantPlat: map[string]PlatformState{
				"discord":  {State: StateConnected},
				"telegram": {State: StateFailed, Error: "GET https://api.telegram.org/bot" + Redacted + "/getMe: 401"},
			},
			wantCirc: map[string]string{"openai": "open", "gemini": "half-open"},
		},
		{
			name: "one platform rejected stays ready",
			opts: ServerOptions{Platforms: func() map[string]PlatformState {
				return map[string]PlatformState{"discord": {State: StateRejected}, "telegram": {State: StateConnected}}
			}},
			wantCode:  http.StatusOK,
			wantStore: Check{OK: true},
			wantPlat:  map[string]PlatformState{"discord": {State: StateRejected}, "telegram": {State: StateConnected}},
			wantCirc:  map[string]string{},
		},
		{
			name: "every platform rejected is unready",
			opts: ServerOptions{Platforms: func() map[string]PlatformState {
				return map[string]PlatformState{"discord": {State: StateRejected}, "telegram": {State: StateRejected}}
			}},
			wantCode:  http.StatusServiceUnavailable,
			wantStore: Check{OK: true},
			wantPlat:  map[string]PlatformState{"discord": {State: StateRejected}, "telegram": {State: StateRejected}},
			wantCirc:  map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, NewServer(Config{}, tt.opts).Handler(), "/readyz")
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var got Readiness
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode body: %v\n%s", err, rec.Body)
			}
			if got.Ready != (tt.wantCode == http.StatusOK) {
				t.Errorf("ready = %v with code %d", got.Ready, rec.Code)
			}
			if got.Store != tt.wantStore {
				t.Errorf("store = %+v, want %+v", got.Store, tt.wantStore)
			}
			if !equalMaps(got.Platforms, tt.wantPlat) {
				t.Errorf("platforms = %+v, want %+v", got.Platforms, tt.wantPlat)
			}
			if !equalMaps(got.Circuits, tt.wantCirc) {
				t.Errorf("circuits = %+v, want %+v", got.Circuits, tt.wantCirc)
			}
			if got.PendingWrites != tt.wantPend {
				t.Errorf("pending_writes = %d, want %d", got.PendingWrites, tt.wantPend)
			}
		})
	}
}

func equalMaps[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestReadyzStoreCheckHasDeadline(t *testing.T) {
	var hadDeadline bool
	s := NewServer(Config{}, ServerOptions{Store: func(ctx context.Context) error {
		_, hadDeadline = ctx.Deadline()
		return nil
	}})
	get(t, s.Handler(), "/readyz")
	if !hadDeadline {
		t.Error("the store check ran without a deadline")
	}
}

func TestExtraHandlers(t *testing.T) {
	s := NewServer(Config{}, ServerOptions{Handlers: map[string]http.Handler{
		"POST /telegram/webhook": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }),
	}})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/telegram/webhook", nil))
	if rec.Code != http.StatusAccepted {
		t.Errorf("extra handler answered %d", rec.Code)
	}
}

// TestServeShutsDownWithContext runs the real listener, requests /healthz,
// cancels and waits for Serve to return nil.
func TestServeShutsDownWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewServer(Config{}, ServerOptions{}).Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("get healthz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("healthz = %d %q", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after cancel, want nil", err)
		}
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestRunReportsListenError(t *testing.T) {
	err := NewServer(Config{HTTPAddr: "256.0.0.1:bad"}, ServerOptions{}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "HTTP_ADDR") {
		t.Fatalf("Run = %v, want a listen error naming HTTP_ADDR", err)
	}
}
