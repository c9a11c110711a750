package telegramfake

import "sync"

// memberBook holds people's statuses in chats (getChatMember), under its
// own lock.
type memberBook struct {
	mu     sync.Mutex
	status map[[2]int64]string // chat, user → status
}

func (b *memberBook) set(chatID, userID int64, status string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.status == nil {
		b.status = map[[2]int64]string{}
	}
	b.status[[2]int64{chatID, userID}] = status
}

// get is a user's status in a chat; "member" unless set.
func (b *memberBook) get(chatID, userID int64) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st := b.status[[2]int64{chatID, userID}]; st != "" {
		return st
	}
	return "member"
}
