package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-telegram/bot/models"
)

const maxUpdateBody = 1 << 20

// WebhookHandler receives updates in webhook mode (TELEGRAM_WEBHOOK_URL).
// Unlike go-telegram/bot's own handler it answers 401 when
// X-Telegram-Bot-Api-Secret-Token does not match, 413 when the body is over
// 1 MiB and 400 when it is not an update, so misconfiguration shows in Telegram's getWebhookInfo.
// Updates are handed to the same pipeline as polled ones (de-duplication,
// allow-list, per-chat order); 503 when Run is not consuming them.
func (a *Adapter) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if a.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.cfg.WebhookSecret)) != 1 {
			a.log.Warn("webhook call with a wrong secret", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBody))
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			a.log.Warn("webhook body too large", "limit", mbe.Limit, "remote", r.RemoteAddr)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var u models.Update
		if err := json.Unmarshal(body, &u); err != nil || u.ID == 0 {
			a.log.Warn("webhook body is not an update", "err", err, "bytes", len(body))
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		select {
		case a.updates <- &u:
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	})
}
