package telegram

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// TestMain runs twice as many parallel tests at once as there are CPUs
// (go test's default is as many), unless -parallel is given: most of this
// package's tests wait on a scaled clock rather than compute, so the CPUs
// stay busy. Each test has its own fake and adapter.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0)))
	}
	os.Exit(m.Run())
}
