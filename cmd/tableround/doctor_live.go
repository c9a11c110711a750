package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tableround/tableround/ops"
)

// checkLive asks a running `tableround serve` (its HTTP_ADDR listener) for
// its readiness and its recent warnings: breaker openings, 429 bursts,
// invalid requests and store errors, with their times.
func (d *doctor) checkLive(ctx context.Context, base string) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.add(check{name: "instance", status: checkFail, detail: fmt.Sprintf("--url %q is not an http(s) URL", base),
			fix: "give the listener's address, e.g. --url http://127.0.0.1:8080"})
		return
	}
	var ready ops.Readiness
	code, err := getJSON(ctx, u.String()+"/readyz", nil, &ready)
	if err == nil && code != http.StatusOK && code != http.StatusServiceUnavailable {
		err = fmt.Errorf("/readyz answered HTTP %d", code)
	}
	if err != nil {
		d.add(check{name: "instance", status: checkFail, detail: err.Error(),
			fix: "is `tableround serve` running, and is --url its HTTP_ADDR?"})
		return
	}
	detail := readinessLine(ready)
	switch {
	case code == http.StatusOK && ready.Ready:
		d.add(check{name: "instance", status: checkOK, detail: detail})
	default:
		d.add(check{name: "instance", status: checkFail, detail: "not ready: " + detail,
			fix: "the store does not answer; see deploy/README.md#tableroundnotready"})
	}
	var alerts ops.AlertsBody
	code, err = getJSON(ctx, u.String()+"/alerts", nil, &alerts)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("/alerts answered HTTP %d", code)
	}
	if err != nil {
		d.add(check{name: "recent warnings", status: checkWarn, detail: err.Error(),
			fix: "an older serve has no /alerts; upgrade it"})
		return
	}
	if len(alerts.Alerts) == 0 {
		d.add(check{name: "recent warnings", status: checkOK, detail: "none since the process started"})
		return
	}
	d.add(check{name: "recent warnings", status: checkWarn,
		detail: fmt.Sprintf("%d in this process (newest first, UTC)", len(alerts.Alerts)),
		fix:    "see the runbook in deploy/README.md"})
	for _, a := range alerts.Alerts {
		fmt.Fprintln(d.out, "    "+ops.Redact(a.String()))
	}
}

// readinessLine sums up /readyz: the store, each platform, each circuit and
// the buffered writes.
func readinessLine(r ops.Readiness) string {
	parts := []string{"store ok"}
	if !r.Store.OK {
		parts[0] = "store: " + r.Store.Error
	}
	for _, name := range sortedKeys(r.Platforms) {
		p := r.Platforms[name]
		s := name + " " + p.State
		if p.Error != "" {
			s += " (" + p.Error + ")"
		}
		parts = append(parts, s)
	}
	for _, name := range sortedKeys(r.Circuits) {
		parts = append(parts, "circuit "+name+" "+r.Circuits[name])
	}
	parts = append(parts, fmt.Sprintf("%d pending writes", r.PendingWrites))
	return strings.Join(parts, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
