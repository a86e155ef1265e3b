package sdktest

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/desilo/desilo/core/mapping"
)

// mapping checks that every default mapping compiles against the unified
// model and turns each record of the first read into a valid entity row:
// a connector's defaults must work without any user mapping.
func (s *suite) mapping(ctx context.Context) error {
	streams, err := s.discovered(ctx)
	if err != nil {
		return fmt.Errorf("cannot check mappings without a valid Discover: %w", err)
	}
	first, err := s.firstRead(ctx)
	if err != nil {
		return fmt.Errorf("cannot check mappings without a valid first Read: %w", err)
	}
	names := make([]string, 0, len(streams))
	for n := range streams {
		names = append(names, n)
	}
	slices.Sort(names)
	var errs []error
	for _, name := range names {
		st := streams[name]
		if st.Mapping == nil {
			continue
		}
		plan, err := mapping.Default(st.Stream, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %s: default mapping: %w", name, err))
			continue
		}
		row := make([]any, len(plan.Table().Columns))
		bad := 0
		for _, r := range first.Stream(name) {
			if err := plan.Map("conformance", r, row); err != nil {
				if bad++; bad <= maxProblems {
					errs = append(errs, fmt.Errorf("stream %s: the default mapping rejects a record: %w\n  %s", name, err, r.Data))
				}
			}
		}
	}
	return errors.Join(errs...)
}
