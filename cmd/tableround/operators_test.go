package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseOperators(t *testing.T) {
	t.Parallel()
	got, err := parseOperators([]string{" discord:80351110224678912", "telegram:12345", ""})
	if err != nil || len(got) != 2 || !got["discord:80351110224678912"] || !got["telegram:12345"] {
		t.Fatalf("parseOperators = %v, %v", got, err)
	}
	for _, bad := range []string{"12345", "discord:", "slack:1", "telegram:@ann", "discord:12a"} {
		if _, err := parseOperators([]string{bad}); err == nil || !strings.Contains(err.Error(), "OPERATOR_IDS") {
			t.Errorf("parseOperators(%q) = %v, want an OPERATOR_IDS error", bad, err)
		}
	}
}

// doctor refuses the OPERATOR_IDS serve refuses.
func TestDoctorChecksOperators(t *testing.T) {
	t.Parallel()
	_, env := testEnv(t)
	env["AI_PROVIDER"] = "demo"
	env["OPERATOR_IDS"] = "12345"
	var out, errb bytes.Buffer
	if code := runDoctor(context.Background(), envOf(env), nil, &out, &errb); code != 1 || !strings.Contains(out.String(), "✗ configuration — OPERATOR_IDS: \"12345\"") {
		t.Fatalf("doctor exit %d:\n%s", code, out.String())
	}
}
