package bolt

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tableround/tableround/store"
)

// The embedded store keeps a checkpoint as cpFormat, the step, the fence
// and the state compressed with DEFLATE. Checkpoints are the store's
// largest and most frequent write (the whole session state after every
// step): as the JSON of Checkpoint, whose State is base64, 500 load sessions
// grew the file by about 1 MB/s and every page written was later read
// through bbolt's memory map, so the file counted in the process's RSS.
// Records written before this format are JSON and begin with '{', never
// with cpFormat, so both read back.
const cpFormat byte = 0

// cpEncoder writes checkpoint records. It reuses DEFLATE writers, each of
// which holds a few hundred KB of tables; the zero value is ready to use.
type cpEncoder struct {
	writers sync.Pool // of *flate.Writer
}

// encode returns the record of cp.
func (e *cpEncoder) encode(cp store.Checkpoint) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(cp.State)/3 + 32)
	buf.WriteByte(cpFormat)
	var n [2 * binary.MaxVarintLen64]byte
	k := binary.PutUvarint(n[:], uint64(max(cp.Step, 0)))
	k += binary.PutVarint(n[k:], cp.Fence)
	buf.Write(n[:k])
	w, _ := e.writers.Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriter(nil, flate.BestSpeed) // a valid level cannot fail
	}
	defer e.writers.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(cp.State); err != nil {
		return nil, fmt.Errorf("compress checkpoint: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress checkpoint: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeCheckpoint reads a record of either format.
func decodeCheckpoint(rec []byte) (store.Checkpoint, error) {
	var cp store.Checkpoint
	if len(rec) == 0 || rec[0] != cpFormat {
		err := json.Unmarshal(rec, &cp)
		return cp, err
	}
	r := bytes.NewReader(rec[1:])
	step, err := binary.ReadUvarint(r)
	if err != nil {
		return cp, fmt.Errorf("checkpoint step: %w", err)
	}
	fence, err := binary.ReadVarint(r)
	if err != nil {
		return cp, fmt.Errorf("checkpoint fence: %w", err)
	}
	fr := flate.NewReader(r)
	defer fr.Close()
	state, err := io.ReadAll(fr)
	if err != nil {
		return cp, fmt.Errorf("decompress checkpoint: %w", err)
	}
	if step > uint64(int(^uint(0)>>1)) {
		return cp, errors.New("checkpoint step out of range")
	}
	cp.Step, cp.Fence, cp.State = int(step), fence, state
	return cp, nil
}
