package ops

import "net/http"

// CountRequests wraps a chat platform's HTTP transport (nil: the default)
// so every request is counted in platform_requests_total, every 429 in
// platform_rate_limited_total and every 401, 403 and 429 in
// platform_invalid_requests_total, the count Discord bans an IP for.
func (m *Metrics) CountRequests(platform string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		return base
	}
	return &countingTransport{platform: platform, base: base, m: m}
}

type countingTransport struct {
	platform string
	base     http.RoundTripper
	m        *Metrics
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.m.ObserveRequest(t.platform)
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		t.m.Observe429(t.platform)
	case http.StatusUnauthorized, http.StatusForbidden:
		t.m.ObserveInvalidRequest(t.platform, resp.StatusCode)
	}
	return resp, nil
}
