package profile

import (
	"fmt"
	"slices"
	"sort"

	"github.com/desilo/desilo/core/model"
)

// AssignRFM scores every customer row with orders against all the others:
// rfm_r, rfm_f and rfm_m from 1 to 5 by quintile of rfm_recency_days
// (fewer days score higher), rfm_frequency and rfm_monetary, and
// rfm_score as the three digits ("545"). A customer's score in a metric
// is 1 + ⌊5·k/n⌋, where n is the number of scored customers and k the
// number of them with a strictly worse value, so equal values score the
// same, the scores do not depend on row order, and a lone customer scores
// 1. Rows without rfm_frequency ≥ 1, rfm_recency_days and rfm_monetary
// (no orders, or orders without any time) get no scores; scores a row
// held before are cleared, so the pass can be repeated.
func AssignRFM(rows [][]any) error {
	t, err := model.Load("customer")
	if err != nil {
		return fmt.Errorf("rfm: %w", err)
	}
	var cols [7]int
	for i, name := range []string{"rfm_recency_days", "rfm_frequency", "rfm_monetary", "rfm_r", "rfm_f", "rfm_m", "rfm_score"} {
		j, ok := t.Index(name)
		if !ok {
			return fmt.Errorf("rfm: the customer table has no column %q", name)
		}
		cols[i] = j
	}
	recency, freq, money, rScore, fScore, mScore, score := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]

	// Values where higher is better: recency enters negated.
	var members []int
	var r, f, m []float64
	for i, row := range rows {
		if len(row) != len(t.Columns) {
			return fmt.Errorf("rfm: customer row %d has %d values, the table has %d columns", i, len(row), len(t.Columns))
		}
		row[rScore], row[fScore], row[mScore], row[score] = nil, nil, nil, nil
		days, okR, err := intValue(row, recency)
		if err != nil {
			return fmt.Errorf("rfm: customer row %d (%v): rfm_recency_days: %w", i, row[0], err)
		}
		n, okF, err := intValue(row, freq)
		if err != nil {
			return fmt.Errorf("rfm: customer row %d (%v): rfm_frequency: %w", i, row[0], err)
		}
		mon, okM := row[money].(float64)
		if !okM && row[money] != nil {
			return fmt.Errorf("rfm: customer row %d (%v): rfm_monetary holds %T, want float64", i, row[0], row[money])
		}
		if !okR || !okF || !okM || n < 1 {
			continue
		}
		members = append(members, i)
		r, f, m = append(r, -float64(days)), append(f, float64(n)), append(m, mon)
	}
	sr, sf, sm := slices.Sorted(slices.Values(r)), slices.Sorted(slices.Values(f)), slices.Sorted(slices.Values(m))
	for k, i := range members {
		row := rows[i]
		a, b, c := quintile(sr, r[k]), quintile(sf, f[k]), quintile(sm, m[k])
		row[rScore], row[fScore], row[mScore] = a, b, c
		row[score] = string([]byte{byte('0' + a), byte('0' + b), byte('0' + c)})
	}
	return nil
}

func intValue(row []any, col int) (int64, bool, error) {
	switch v := row[col].(type) {
	case nil:
		return 0, false, nil
	case int64:
		return v, true, nil
	}
	return 0, false, fmt.Errorf("holds %T, want int64", row[col])
}

// quintile is 1 + ⌊5·k/n⌋ with k the number of values in sorted below v.
func quintile(sorted []float64, v float64) int64 {
	k := sort.SearchFloat64s(sorted, v)
	return 1 + int64(5*k/len(sorted))
}
