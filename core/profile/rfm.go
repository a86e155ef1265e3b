package profile

import (
	"fmt"
	"slices"
	"sort"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// AssignRFM scores every customer row with orders against all the others:
// rfm_r, rfm_f and rfm_m from 1 to 5 by quintile of rfm_recency_days
// (fewer days score higher), rfm_frequency and rfm_monetary, and
// rfm_score as the three digits ("545"). A customer's score in a metric
// is 1 + ⌊5·k/n⌋, where n is the number of scored customers and k the
// number of them with a strictly worse value, so equal values score the
// same, the scores do not depend on row order, and a lone customer scores
// 1. Amounts in different currencies are not compared: rfm_m counts only
// the customers with the same revenue_currency (n and k alike). Rows without rfm_frequency ≥ 1, rfm_recency_days and rfm_monetary
// (no orders, or orders without any time) get no scores; scores a row
// held before are cleared, so the pass can be repeated.
func AssignRFM(rows [][]any) error {
	s, err := NewRFM()
	if err != nil {
		return err
	}
	for i, row := range rows {
		if err := s.Add(i, row); err != nil {
			return err
		}
	}
	for i, row := range rows {
		s.Score(i, row)
	}
	return nil
}

// RFM scores customers as AssignRFM does, for callers that do not keep
// every customer row: Add reads each row's metrics, then Score fills in
// the scores of each row once all were added.
type RFM struct {
	cols    [8]int
	width   int
	members []int32 // customer numbers with scores, ascending
	r, f, m []float64
	cur     []int32          // each member's currency, an index into curs
	curs    map[string]int32 // revenue_currency → index
	sr, sf  []float64        // sorted copies, made by the first Score
	sm      [][]float64      // per currency
}

// NewRFM returns an empty scorer.
func NewRFM() (*RFM, error) {
	t, err := model.Load("customer")
	if err != nil {
		return nil, fmt.Errorf("rfm: %w", err)
	}
	s := &RFM{width: len(t.Columns), curs: map[string]int32{}}
	for i, name := range []string{"rfm_recency_days", "rfm_frequency", "rfm_monetary", "rfm_r", "rfm_f", "rfm_m", "rfm_score", "revenue_currency"} {
		j, ok := t.Index(name)
		if !ok {
			return nil, fmt.Errorf("rfm: the customer table has no column %q", name)
		}
		s.cols[i] = j
	}
	return s, nil
}

// Add reads the metrics of customer number i (numbers ascend from call to
// call) from its customer row.
func (s *RFM) Add(i int, row []any) error {
	recency, freq, money := s.cols[0], s.cols[1], s.cols[2]
	if len(row) != s.width {
		return fmt.Errorf("rfm: customer row %d has %d values, the table has %d columns", i, len(row), s.width)
	}
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
	cur, okC := row[s.cols[7]].(string)
	if !okC && row[s.cols[7]] != nil {
		return fmt.Errorf("rfm: customer row %d (%v): revenue_currency holds %T, want string", i, row[0], row[s.cols[7]])
	}
	if !okF || !okM {
		n = 0 // not scored
	}
	return s.AddInputs(i, RFMInputs{RecencyDays: days, HasRecency: okR, Frequency: n, Monetary: mon, Currency: cur})
}

// AddInputs adds the metrics of customer number i (numbers ascend from
// call to call), as Builder.RFMInputs computes them.
func (s *RFM) AddInputs(i int, in RFMInputs) error {
	if s.sr != nil {
		return fmt.Errorf("rfm: customer %d added after scoring began", i)
	}
	if !in.HasRecency || in.Frequency < 1 {
		return nil
	}
	if k := len(s.members); k > 0 && int(s.members[k-1]) >= i {
		return fmt.Errorf("rfm: customer %d added after customer %d", i, s.members[k-1])
	}
	// Values where higher is better: recency enters negated.
	s.members = append(s.members, int32(i))
	s.r, s.f, s.m = append(s.r, -float64(in.RecencyDays)), append(s.f, float64(in.Frequency)), append(s.m, in.Monetary)
	c, ok := s.curs[in.Currency]
	if !ok {
		c = int32(len(s.curs))
		s.curs[in.Currency] = c
	}
	s.cur = append(s.cur, c)
	return nil
}

// Score sets the scores of customer number i in row, or clears them when
// the customer has none.
func (s *RFM) Score(i int, row []any) {
	rScore, fScore, mScore, score := s.cols[3], s.cols[4], s.cols[5], s.cols[6]
	row[rScore], row[fScore], row[mScore], row[score] = nil, nil, nil, nil
	if r, f, m, ok := s.scores(i); ok {
		row[rScore], row[fScore], row[mScore], row[score] = r, f, m, digits(r, f, m)
	}
}

// ScoreRow sets the scores of customer number i in row of set, a set of
// the customer table, as Profile left it: a customer without scores
// keeps them null.
func (s *RFM) ScoreRow(i int, set *rowset.Set, row int) {
	if r, f, m, ok := s.scores(i); ok {
		set.PutWord(row, s.cols[3], uint64(r))
		set.PutWord(row, s.cols[4], uint64(f))
		set.PutWord(row, s.cols[5], uint64(m))
		set.PutText(row, s.cols[6], digits(r, f, m))
	}
}

// scores returns customer i's quintile scores; ok is false when it has
// none.
func (s *RFM) scores(i int) (r, f, m int64, ok bool) {
	if s.sr == nil {
		s.sr, s.sf = slices.Sorted(slices.Values(s.r)), slices.Sorted(slices.Values(s.f))
		s.sm = make([][]float64, len(s.curs))
		for k, c := range s.cur {
			s.sm[c] = append(s.sm[c], s.m[k])
		}
		for _, m := range s.sm {
			slices.Sort(m)
		}
	}
	k, ok := slices.BinarySearch(s.members, int32(i))
	if !ok {
		return 0, 0, 0, false
	}
	return quintile(s.sr, s.r[k]), quintile(s.sf, s.f[k]), quintile(s.sm[s.cur[k]], s.m[k]), true
}

// digits is rfm_score: the three scores as digits ("545").
func digits(r, f, m int64) string {
	return string([]byte{byte('0' + r), byte('0' + f), byte('0' + m)})
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
