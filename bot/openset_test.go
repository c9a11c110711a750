package bot

import "testing"

func TestOpenSetClosesOnlyTheCurrentItem(t *testing.T) {
	var s OpenSet[string, *int]
	a, b := new(int), new(int)
	s.Open("c", a)
	s.Open("c", b) // a newer question replaces a
	s.Close("c", a)
	if s.Get("c") != b {
		t.Fatal("closing a replaced item dropped the current one")
	}
	s.Close("c", b)
	if s.Get("c") != nil {
		t.Fatal("the current item was not closed")
	}
}
