package main

import (
	"slices"
	"testing"
)

func TestChunkStamps(t *testing.T) {
	for _, c := range []struct {
		name string
		line string
		want []int64
	}{
		{"one chunk", `data: {"t":"delta","m":1,"o":5,"s":"@1700000000000000001 word word word "}`, []int64{1700000000000000001}},
		{"two chunks", `data: {"t":"delta","m":1,"s":"@12 word @34 word "}`, []int64{12, 34}},
		{"a mark without digits", `data: {"t":"delta","m":1,"s":"mail @ home"}`, nil},
		{"none", `data: {"t":"open","m":1}`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := chunkStamps([]byte(c.line)); !slices.Equal(got, c.want) {
				t.Errorf("chunkStamps = %v, want %v", got, c.want)
			}
		})
	}
}
