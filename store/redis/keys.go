package redis

// keys names the store's Redis keys under one prefix. A channel's keys
// carry the channel in a hash tag, <prefix>{<channel>}:<rest>, so that a
// session's keys and its channel's share one Redis Cluster slot and one
// MULTI or script can touch them together.
type keys string

// channel is one of a channel's keys.
func (k keys) channel(ch, rest string) string { return string(k) + "{" + ch + "}:" + rest }

// meta is a session's metadata hash; log, checkpoint and blob hang off it.
func (k keys) meta(ch, id string) string       { return k.channel(ch, "session:"+id) }
func (k keys) log(ch, id string) string        { return k.meta(ch, id) + ":log" }
func (k keys) checkpoint(ch, id string) string { return k.meta(ch, id) + ":checkpoint" }
func (k keys) blob(ch, id, name string) string { return k.meta(ch, id) + ":blob:" + name }

// index lists a channel's sessions; lock is its lease; memory what it
// remembers across sessions.
func (k keys) index(ch string) string  { return k.channel(ch, "sessions") }
func (k keys) lock(ch string) string   { return k.channel(ch, "lock") }
func (k keys) memory(ch string) string { return k.channel(ch, "memory") }

// sid points from a session ID to its channel; running is the index of
// running sessions scored by lease expiry; quota is one quota's window.
func (k keys) sid(id string) string    { return string(k) + "sid:" + id }
func (k keys) running() string         { return string(k) + "running" }
func (k keys) quota(key string) string { return string(k) + "quota:" + key }
