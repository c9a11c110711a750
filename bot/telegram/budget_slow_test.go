//go:build slow

package telegram

import "testing"

// The group case of TestWholeSessionWithinTelegramsBudgets: a whole
// session at a group's 20 writes a minute (edits included) is 7 minutes of
// the harness's clock, ~15 s of the wall's, so it runs with -tags slow:
//
//	go test -race -tags slow ./bot/telegram -run WholeSessionInAGroup -v
func TestWholeSessionInAGroupWithinTelegramsBudgets(t *testing.T) {
	t.Parallel()
	wholeSessionWithinBudgets(t, "group", groupChat, "/roundtable@"+botName+" paper lanterns")
}
