package mapping

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// fixedLayouts are layouts the fast reader takes over from time.Parse.
var fixedLayouts = []string{
	"2006-01-02 15:04",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05-07:00",
	"2006-01-02T15:04:05",
	"02.01.2006 15:04",
	"02.01.2006",
	"01/02/2006 15:04:05",
	"2006/01/02",
	"20060102150405",
	"2006-01-02",
	"2006-01-02 -0700",
}

func TestFixedLayoutCoverage(t *testing.T) {
	for _, l := range fixedLayouts {
		if newFixedLayout(l) == nil {
			t.Errorf("%q: no fast reader", l)
		}
	}
	for _, l := range []string{
		"Jan 2, 2006", "2 January 2006", "Mon, 02 Jan 2006 15:04:05 -0700", "2006-01-02 15:04:05.000",
		"2006-01-02 15:04:05,999", "2006-01-02T15:04:05Z07:00", "02.01.06", "2006-01-02 3:04PM",
		"2006-01-02 03:04 pm", "2006-01-02 15:04 MST", "_2.01.2006", "2.1.2006", "2006-002",
		"2006-01-02 15:04:05 -07", "2006-01-02 15:04:05 -070000", "2006-01-02 15:04:05 -07:00:00",
		"15:04:05.02.01.2006", "2006-01-02 15:04 -0700 -07:00", "2006-01-02 15:04 2006", "01-02 15:04",
		"2006-01-02 15h04",
	} {
		if newFixedLayout(l) != nil {
			t.Errorf("%q: unexpected fast reader", l)
		}
	}
}

// checkLayoutAgrees converts text with the fast reader and with
// time.Parse alone, as timestamp and as date: values and errors must be
// identical.
func checkLayoutAgrees(t *testing.T, layout, text string) {
	t.Helper()
	fixed := newFixedLayout(layout)
	if fixed == nil {
		return
	}
	var st state
	for _, c := range []conv{cTimestamp, cDate} {
		slow := converter{conv: c, layout: lGo, goFmt: layout}
		fast := slow
		fast.fixed = fixed
		v := value{kind: kString, text: []byte(text)}
		want, werr := st.toTime(&slow, v)
		got, err := st.toTime(&fast, v)
		if fmt.Sprint(err) != fmt.Sprint(werr) || got.kind != want.kind || got.date != want.date ||
			got.i != want.i || got.nsec != want.nsec {
			t.Fatalf("layout %q, %q, conv %d: fast %v %v, time.Parse %v %v",
				layout, text, c, got.describe(), err, want.describe(), werr)
		}
	}
}

func TestFixedLayoutAgreesWithTimeParse(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	edits := []string{"0", "1", "2", "9", " ", "  ", "+", "-", ":", ".", "/", "T", "a", ".5", ",123", "Z", "\xff"}
	var zones []*time.Location
	for _, off := range []int{0, 3600, -3600, 7200, 19800, -34200, 14 * 3600, -12 * 3600, 24*3600 - 60} {
		zones = append(zones, time.FixedZone("", off))
	}
	zones = append(zones, time.Local, time.UTC)
	for _, layout := range fixedLayouts {
		for _, s := range []string{
			"", "2023-02-29 10:00", "2024-02-29 10:00", "2024-02-30 10:00", "2024-13-01 10:00", "2024-00-01 10:00",
			"2024-01-00 10:00", "2024-01-01 24:00", "2024-01-01 23:60", "2024-01-01 3:04", "0000-01-01 00:00",
			"9999-12-31 23:59", "2024-01-01 10:00:60 +0100", "2024-01-01 10:00:00 +2400", "2024-01-01 10:00:00 +2500",
			"2024-01-01 10:00:00 -0060", "2024-01-01 10:00:00 -0061", "2024-01-01 10:00:00 +01:00",
			"2024-01-01 10:00:00 Z", "2024-01-01 10:00:00.5 +0100", "2024-01-01 10:00:00  +0100",
			"31.12.1999 23:59", "31.12.1999", "29.02.2023", "12/31/1999 23:59:59", "-024-01-01 10:00",
			"+024-01-01 10:00", "2024-01-01 10:00:00 +0a00",
		} {
			checkLayoutAgrees(t, layout, s)
		}
		for range 3000 {
			tm := time.Unix(r.Int64N(253402300800+62135596800)-62135596800, 0).In(zones[r.IntN(len(zones))])
			s := tm.Format(layout)
			checkLayoutAgrees(t, layout, s)
			// The same text with an edit: a byte replaced, inserted or removed.
			i := r.IntN(len(s) + 1)
			e := edits[r.IntN(len(edits))]
			switch r.IntN(3) {
			case 0:
				if i < len(s) {
					s = s[:i] + e + s[i+1:]
				}
			case 1:
				s = s[:i] + e + s[i:]
			default:
				if i < len(s) {
					s = s[:i] + s[i+1:]
				}
			}
			checkLayoutAgrees(t, layout, s)
		}
	}
}

func FuzzFixedLayout(f *testing.F) {
	for i, l := range fixedLayouts {
		f.Add(uint8(i), time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("", 5400)).Format(l))
	}
	f.Add(uint8(1), "2024-01-01 10:00:00 +2400")
	f.Add(uint8(4), "29.02.2023 10:00")
	f.Fuzz(func(t *testing.T, layout uint8, text string) {
		checkLayoutAgrees(t, fixedLayouts[int(layout)%len(fixedLayouts)], text)
	})
}

func TestUnixDaysAgreesWithTime(t *testing.T) {
	// Every day of whole 400-year cycles (the calendar repeats after one)
	// around year 0, around today and up to year 10000.
	for _, years := range [][2]int{{-401, 401}, {1599, 2401}, {9599, 10001}} {
		end := time.Date(years[1], 1, 1, 0, 0, 0, 0, time.UTC)
		for tm := time.Date(years[0], 1, 1, 0, 0, 0, 0, time.UTC); tm.Before(end); tm = tm.AddDate(0, 0, 1) {
			y, m, d := tm.Date()
			if got, want := unixDays(y, int(m), d)*secondsPerDay, tm.Unix(); got != want {
				t.Fatalf("unixDays(%d, %d, %d) gives %d seconds, want %d", y, m, d, got, want)
			}
		}
	}
}

// TestTimeValueRoundTrip makes sure a value's time is the very time.Time
// (not merely an equal instant) the row held before values kept times as
// Unix seconds: UTC, no monotonic reading.
func TestTimeValueRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -3600)).UTC(),
		time.Unix(1700000000, 5).UTC(),
	} {
		for _, date := range []bool{false, true} {
			if got := timeValue(tm, date).time(); got != tm {
				t.Errorf("%v: round trip gives %#v, want %#v", tm, got, tm)
			}
		}
	}
}
