package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tableround/tableround/store"
)

// bQuotas holds key -> JSON []quotaUse, the uses still within the longest
// window asked for (older ones are dropped on the next take).
var bQuotas = []byte("quotas")

type quotaUse struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

// TakeQuota records use id of key when fewer than limit uses fall within
// window; the check and the write share one bbolt write transaction, which
// bbolt runs one at a time, so concurrent takes cannot both see room.
func (b *Store) TakeQuota(ctx context.Context, key, id string, limit int, window time.Duration) (store.Quota, error) {
	if err := ctx.Err(); err != nil {
		return store.Quota{}, err
	}
	if limit <= 0 || window <= 0 {
		return store.Quota{}, fmt.Errorf("take quota %s: limit %d and window %s must be positive", key, limit, window)
	}
	var q store.Quota
	err := b.db.Update(func(tx *bbolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bQuotas)
		if err != nil {
			return err
		}
		uses, err := readUses(bk, key)
		if err != nil {
			return err
		}
		now := b.now()
		kept := uses[:0]
		for _, u := range uses {
			if now.Sub(u.At) < window {
				kept = append(kept, u)
			}
		}
		sort.Slice(kept, func(i, j int) bool { return kept[i].At.Before(kept[j].At) })
		if len(kept) >= limit {
			q = store.Quota{Used: len(kept), RetryAt: kept[len(kept)-limit].At.Add(window)}
			return writeUses(bk, key, kept)
		}
		kept = append(kept, quotaUse{ID: id, At: now})
		q = store.Quota{Allowed: true, Used: len(kept)}
		return writeUses(bk, key, kept)
	})
	if err != nil {
		return store.Quota{}, fmt.Errorf("take quota %s: %w", key, err)
	}
	return q, nil
}

// ReturnQuota forgets use id of key.
func (b *Store) ReturnQuota(ctx context.Context, key, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bQuotas)
		if bk == nil {
			return nil
		}
		uses, err := readUses(bk, key)
		if err != nil {
			return err
		}
		kept := uses[:0]
		for _, u := range uses {
			if u.ID != id {
				kept = append(kept, u)
			}
		}
		return writeUses(bk, key, kept)
	})
	if err != nil {
		return fmt.Errorf("return quota %s: %w", key, err)
	}
	return nil
}

func readUses(bk *bbolt.Bucket, key string) ([]quotaUse, error) {
	v := bk.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	var uses []quotaUse
	if err := json.Unmarshal(v, &uses); err != nil {
		return nil, fmt.Errorf("decode uses: %w", err)
	}
	return uses, nil
}

func writeUses(bk *bbolt.Bucket, key string, uses []quotaUse) error {
	if len(uses) == 0 {
		return bk.Delete([]byte(key))
	}
	v, err := json.Marshal(uses)
	if err != nil {
		return err
	}
	return bk.Put([]byte(key), v)
}
