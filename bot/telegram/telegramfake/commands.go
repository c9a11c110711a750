package telegramfake

import "sync"

// Command is a registered bot command.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// commandBook holds the commands each bot registered per scope type
// (setMyCommands), under its own lock.
type commandBook struct {
	mu    sync.Mutex
	lists map[[2]string][]Command // token, scope type → commands
}

func (c *commandBook) set(token, scope string, cmds []Command) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lists == nil {
		c.lists = map[[2]string][]Command{}
	}
	c.lists[[2]string{token, scope}] = cmds
}

func (c *commandBook) get(token, scope string) []Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Command(nil), c.lists[[2]string{token, scope}]...)
}
