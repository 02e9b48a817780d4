package mutate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"decnet/internal/store"
)

// load reads the stored record; none is stored before the first change.
func (e *Engine) load(ctx context.Context) (record, error) {
	var rec record
	if e.opts.State == nil {
		return rec, nil
	}
	b, err := e.opts.State.State(ctx, StateKey)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return rec, nil
	case err != nil:
		return rec, fmt.Errorf("mutator: load intervals: %w", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("mutator: stored intervals (%s): %w", StateKey, err)
	}
	return rec, nil
}

func (e *Engine) save(ctx context.Context, rec record) error {
	if e.opts.State == nil {
		return nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("mutator: save intervals: %w", err)
	}
	if err := e.opts.State.SetState(ctx, StateKey, b); err != nil {
		return fmt.Errorf("mutator: save intervals: %w", err)
	}
	return nil
}
