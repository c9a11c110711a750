package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary act as the fakes' process when run starts
// it as a child (run execs its own binary).
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
