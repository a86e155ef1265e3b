package eval

import (
	"math"
	"strings"
	"testing"
)

func k(n string) Key { return Key{"src", "recs", n} }

// Persons A (r1, r2, r3) and B (r4, r5): 3 + 1 = 4 true pairs.
var truth5 = map[Key]string{k("r1"): "A", k("r2"): "A", k("r3"): "A", k("r4"): "B", k("r5"): "B"}

func links(customers ...string) map[Key]string {
	out := map[Key]string{}
	for i, c := range customers {
		out[k("r"+string(rune('1'+i)))] = c
	}
	return out
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name  string
		links map[Key]string
		want  Report // only the figures below are compared
	}{
		// Found pairs 4, all correct.
		{"perfect", links("c1", "c1", "c1", "c2", "c2"),
			Report{Customers: 2, Exact: 2, TruePairs: 4, FoundPairs: 4, Correct: 4, Precision: 1, Recall: 1, F1: 1}},
		// C(5,2) = 10 found, 4 correct: P 0.4, R 1, F1 0.8/1.4.
		{"all merged", links("c", "c", "c", "c", "c"),
			Report{Customers: 1, OverMerged: 1, TruePairs: 4, FoundPairs: 10, Correct: 4, Precision: 0.4, Recall: 1, F1: 0.8 / 1.4}},
		// Nothing found: precision is vacuously 1, recall 0.
		{"all split", links("c1", "c2", "c3", "c4", "c5"),
			Report{Customers: 5, UnderMerged: 2, TruePairs: 4, Precision: 1, Recall: 0, F1: 0}},
		// r4 wrongly joins A's customer: C(4,2) = 6 found, 3 correct; B split.
		{"one wrong merge", links("c1", "c1", "c1", "c1", "c2"),
			Report{Customers: 2, OverMerged: 1, UnderMerged: 1, TruePairs: 4, FoundPairs: 6, Correct: 3, Precision: 0.5, Recall: 0.75, F1: 0.6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(truth5, tc.links)
			w := tc.want
			if got.Records != 5 || got.People != 2 || got.Customers != w.Customers || got.Exact != w.Exact ||
				got.OverMerged != w.OverMerged || got.UnderMerged != w.UnderMerged || got.TruePairs != w.TruePairs ||
				got.FoundPairs != w.FoundPairs || got.Correct != w.Correct || got.MissingFromSnapshot != 0 || got.NotInTruth != 0 {
				t.Errorf("got %+v\nwant %+v", *got, w)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{{"precision", got.Precision, w.Precision}, {"recall", got.Recall, w.Recall}, {"F1", got.F1, w.F1}} {
				if math.Abs(f.got-f.want) > 1e-12 {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

// Records in only one of the two are counted per source/stream and left
// out of the figures.
func TestCompareUnmatched(t *testing.T) {
	truth := map[Key]string{k("r1"): "A", k("r2"): "A", {"woo", "orders", "9"}: "A", {"woo", "orders", "10"}: "B"}
	l := map[Key]string{k("r1"): "c1", k("r2"): "c1", {"mail", "messages", "x"}: "c1"}
	got := Compare(truth, l)
	if got.Records != 2 || got.MissingFromSnapshot != 2 || got.TruthOnly["woo/orders"] != 2 ||
		got.NotInTruth != 1 || got.SnapshotOnly["mail/messages"] != 1 || got.People != 1 || got.Precision != 1 || got.Recall != 1 {
		t.Fatalf("got %+v", *got)
	}
	var b strings.Builder
	if err := got.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"precision            1.0000", "only in the truth    2", "  woo/orders", "only in the snapshot 1", "  mail/messages"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestReadTruth(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
		n             int
	}{
		{"ok", "source,stream,record_key,person_id\ncrm,contacts,1,P1\nmail,messages,\"mbox:a,b\",P1\n", "", 2},
		{"columns in another order, extra column", "\ufeffperson_id,note,record_key,stream,source\nP1,x,1,contacts,crm\n", "", 1},
		{"same record twice, same person", "source,stream,record_key,person_id\ncrm,c,1,P1\ncrm,c,1,P1\n", "", 1},
		{"same record, two persons", "source,stream,record_key,person_id\ncrm,c,1,P1\ncrm,c,1,P2\n", "truth t.csv:3: record crm/c/1 is given to person P2", 0},
		{"missing column", "source,stream,key,person_id\n", `no column "record_key"`, 0},
		{"empty value", "source,stream,record_key,person_id\ncrm,c,,P1\n", "t.csv:2: source, stream, record_key and person_id must not be empty", 0},
		{"empty file", "", "empty file", 0},
		{"ragged row", "source,stream,record_key,person_id\ncrm,c,1\n", "wrong number of fields", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadTruth(strings.NewReader(tc.in), "t.csv")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != tc.n {
				t.Fatalf("got %d records, %v; want %d", len(got), err, tc.n)
			}
		})
	}
}

func FuzzReadTruth(f *testing.F) {
	f.Add("source,stream,record_key,person_id\ncrm,contacts,1,P1\n")
	f.Add("person_id,record_key,stream,source\n\"a\nb\",1,s,x\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ReadTruth(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			return
		}
		for key, p := range got {
			if key.Source == "" || key.Stream == "" || key.RecordKey == "" || p == "" {
				t.Fatalf("accepted an empty value: %+v -> %q", key, p)
			}
		}
	})
}
