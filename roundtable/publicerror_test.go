package roundtable

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tableround/tableround/providers"
)

func TestPublicErrorKeepsNoProviderText(t *testing.T) {
	t.Parallel()
	raw := &providers.Error{Provider: "openrouter", Kind: providers.KindAuth, Status: 401, Message: `{"error":"raw body sk-or-123"}`}
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("every seat failed: %w", raw), "auth: the model service refused the request"},
		{&CapError{Reason: "the session reached its token limit (10)"}, "the session reached its token limit (10)"},
		{fmt.Errorf("open board: %s", "raw body sk-or-123"), "the session failed"},
	} {
		got := publicError(c.err)
		if !strings.HasPrefix(got, c.want) || strings.Contains(got, "raw body") {
			t.Errorf("publicError(%v) = %q, want %q…", c.err, got, c.want)
		}
	}
}
