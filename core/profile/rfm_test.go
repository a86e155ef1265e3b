package profile

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// rfmRow is a customer row with only the RFM inputs set.
func rfmRow(t *testing.T, id string, days, freq, money any) []any {
	r := make([]any, len(model.MustLoad("customer").Columns))
	set := func(name string, v any) {
		i, _ := model.MustLoad("customer").Index(name)
		r[i] = v
	}
	set("customer_id", id)
	set("rfm_recency_days", days)
	set("rfm_frequency", freq)
	set("rfm_monetary", money)
	return r
}

func TestAssignRFM(t *testing.T) {
	// Six scored customers. Scores are 1 + ⌊5k/6⌋ for k = 0..5: 1 1 2 3 4 5.
	//   recency (fewer days better): E200 D100 C30 F10 A5 B5 → E1 D1 C2 F3 A4 B4
	//   frequency: A1 C1 E1 D2 B3 F5 → A,C,E 1; D 3; B 4; F 5
	//   monetary: E5 A10 C20 B50 D50 F100 → E1 A1 C2 B,D 3; F 5
	rows := func(t *testing.T) [][]any {
		g := rfmRow(t, "G", nil, nil, nil)
		i, _ := model.MustLoad("customer").Index("rfm_r")
		g[i] = int64(3) // a stale score from an earlier pass
		return [][]any{
			rfmRow(t, "A", int64(5), int64(1), 10.0),
			rfmRow(t, "B", int64(5), int64(3), 50.0),
			rfmRow(t, "C", int64(30), int64(1), 20.0),
			rfmRow(t, "D", int64(100), int64(2), 50.0),
			rfmRow(t, "E", int64(200), int64(1), 5.0),
			rfmRow(t, "F", int64(10), int64(5), 100.0),
			g,
			rfmRow(t, "H", nil, int64(1), 10.0), // orders without a time
		}
	}
	want := map[string]string{"A": "411", "B": "443", "C": "212", "D": "133", "E": "111", "F": "355", "G": "", "H": ""}
	for _, reverse := range []bool{false, true} {
		rs := rows(t)
		if reverse {
			slices.Reverse(rs)
		}
		if err := AssignRFM(rs); err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			id := get(t, "customer", r, "customer_id").(string)
			var got []any
			for _, c := range []string{"rfm_r", "rfm_f", "rfm_m", "rfm_score"} {
				got = append(got, get(t, "customer", r, c))
			}
			w := []any{nil, nil, nil, nil}
			if s := want[id]; s != "" {
				w = []any{int64(s[0] - '0'), int64(s[1] - '0'), int64(s[2] - '0'), s}
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("reverse=%v: %s: scores %v, want %v", reverse, id, got, w)
			}
		}
	}
}

// Amounts in different currencies are not compared: 1,000,000 yen do not
// outscore 100 euros. Monetary scores count each currency's customers
// alone; recency and frequency count everyone.
func TestAssignRFMByCurrency(t *testing.T) {
	cur, _ := model.MustLoad("customer").Index("revenue_currency")
	row := func(id string, money float64, currency any) []any {
		r := rfmRow(t, id, int64(10), int64(1), money)
		r[cur] = currency
		return r
	}
	rows := [][]any{
		row("E1", 50, "EUR"), row("E2", 100, "EUR"), // k: 0, 1 of 2
		row("Y1", 1_000_000, "JPY"), row("Y2", 5_000, "JPY"), row("Y3", 20_000, "JPY"), // k: 2, 0, 1 of 3
		row("N", 70, nil), // no currency stated: a group of its own
	}
	if err := AssignRFM(rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"E1": "111", "E2": "113", "Y1": "114", "Y2": "111", "Y3": "112", "N": "111"}
	for _, r := range rows {
		id := get(t, "customer", r, "customer_id").(string)
		if got := get(t, "customer", r, "rfm_score"); got != want[id] {
			t.Errorf("%s: rfm_score %v, want %s", id, got, want[id])
		}
	}
}

func TestAssignRFMSmall(t *testing.T) {
	one := [][]any{rfmRow(t, "A", int64(3), int64(2), 10.0)}
	if err := AssignRFM(one); err != nil {
		t.Fatal(err)
	}
	if got := get(t, "customer", one[0], "rfm_score"); got != "111" {
		t.Errorf("a lone customer scores %v, want 111", got)
	}
	if err := AssignRFM(nil); err != nil {
		t.Errorf("no customers: %v", err)
	}
}

func TestAssignRFMErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		rows [][]any
		want string
	}{
		{"short row", [][]any{{"c_1"}}, "row 0 has 1 values"},
		{"wrong type", [][]any{rfmRow(t, "A", 3, int64(1), 1.0)}, "rfm_recency_days: holds int"},
		{"wrong monetary", [][]any{rfmRow(t, "A", int64(3), int64(1), "1")}, "rfm_monetary holds string"},
	} {
		if err := AssignRFM(tt.rows); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// checkInputs compares RFMInputs with the inputs Profile wrote to out.
func checkInputs(t *testing.T, b *Builder, r *Records, out []any) {
	t.Helper()
	stats := b.Stats()
	in, err := b.RFMInputs(r)
	if err != nil {
		t.Fatal(err)
	}
	if b.Stats() != stats {
		t.Fatalf("RFMInputs changed the builder's stats: %+v, then %+v", stats, b.Stats())
	}
	var want RFMInputs
	if v, ok := get(t, "customer", out, "rfm_frequency").(int64); ok {
		want.Frequency = v
		want.Monetary = get(t, "customer", out, "rfm_monetary").(float64)
		want.Currency, _ = get(t, "customer", out, "revenue_currency").(string)
	}
	if v, ok := get(t, "customer", out, "rfm_recency_days").(int64); ok {
		want.RecencyDays, want.HasRecency = v, true
	}
	if in != want {
		t.Fatalf("customer %s: RFMInputs %+v, the profile says %+v", r.CustomerID, in, want)
	}
}

// RFMInputs agrees with Profile on random customers: orders cancelled or
// not, with and without times, in several currencies, and refunds.
func TestRFMInputsMatchProfile(t *testing.T) {
	b := newBuilder(t, config.Survivorship{})
	rnd := rand.New(rand.NewPCG(5, 6))
	pick := func(xs ...any) any { return xs[rnd.IntN(len(xs))] }
	when := func() any {
		return pick(nil, ts("2023-05-01T10:00:00Z"), ts("2024-02-29T23:59:59Z"), ts("2024-06-01T00:00:00Z"))
	}
	scored := 0
	for c := range 2000 {
		r := &Records{CustomerID: fmt.Sprintf("c%d", c)}
		for k := range rnd.IntN(5) {
			r.Orders = append(r.Orders, order(t, fmt.Sprint(k), fields{
				"status": pick(nil, "paid", "cancelled", "Refunded", "open"), "cancelled_at": pick(nil, nil, nil, when()),
				"ordered_at": when(), "created_at": when(), "total": pick(nil, 12.5, 99.99, 0.01, 1000.0),
				"currency": pick(nil, "EUR", "USD", "eur"),
			}))
		}
		for k := range rnd.IntN(3) {
			r.Events = append(r.Events, event(t, "shop", fmt.Sprint(k), fields{
				"type": pick("refund", "REFUND", "page_view"), "amount": pick(nil, 5.0, 12.5), "currency": pick(nil, "EUR", "USD"),
				"occurred_at": when(), "created_at": when(),
			}))
		}
		r.Customers = []Row{cust(t, "crm", fmt.Sprint(c), fields{"email": "a@example.org"})}
		out := build(t, b, r)
		checkInputs(t, b, r, out)
		if out[b.out.rfmRecency] != nil {
			scored++
		}
	}
	if scored < 500 {
		t.Fatalf("only %d of 2000 customers had RFM inputs", scored)
	}
}

// ScoreRow gives a typed row the scores Score gives an []any row.
func TestScoreRowMatchesScore(t *testing.T) {
	rows := [][]any{
		rfmRow(t, "A", int64(5), int64(1), 10.0),
		rfmRow(t, "B", int64(5), int64(3), 50.0),
		rfmRow(t, "C", nil, nil, nil),
		rfmRow(t, "D", int64(100), int64(2), 50.0),
		rfmRow(t, "E", nil, int64(1), 10.0),
	}
	s, err := NewRFM()
	if err != nil {
		t.Fatal(err)
	}
	set := rowset.New(model.MustLoad("customer"))
	for i, r := range rows {
		if err := s.Add(i, r); err != nil {
			t.Fatal(err)
		}
		if err := set.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rows {
		s.Score(i, r)
		s.ScoreRow(i, set, i)
		if got := set.Row(i, nil); !reflect.DeepEqual(got, r) {
			t.Errorf("customer %d: ScoreRow gives\n%#v\nScore gives\n%#v", i, got, r)
		}
	}
	if get(t, "customer", rows[0], "rfm_score") == nil || get(t, "customer", rows[2], "rfm_score") != nil {
		t.Errorf("A should have scores and C none: %v, %v", rows[0], rows[2])
	}
}
