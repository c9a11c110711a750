// Package ops owns what an operator sees of a running process: the HTTP
// listener with /healthz, /readyz, /metrics, /alerts and the persona
// avatars, the Prometheus collectors (with their series at zero from
// start-up), the history of recent warnings, and the root logger with
// secret redaction.
//
// It knows nothing of the domain or the chat platforms: cmd hands it small
// check functions and plain seat descriptions. It must not read the
// environment itself (cmd loads Config) nor start goroutines outside Run.
package ops

// Config is the environment of the HTTP listener (DESIGN §4).
type Config struct {
	// HTTPAddr is where /healthz, /readyz, /metrics and /avatars listen.
	HTTPAddr string `env:"HTTP_ADDR, default=127.0.0.1:8080"`
	// PublicBaseURL is the listener's public URL; when set, persona avatars
	// are offered to platforms as PublicBaseURL/avatars/<pack>/<seat>.png.
	PublicBaseURL string `env:"PUBLIC_BASE_URL"`
}
