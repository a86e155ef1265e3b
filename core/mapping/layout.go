package mapping

import "time"

// fixedLayout is a Go layout made only of fixed-width numbers and
// punctuation, such as "2006-01-02 15:04:05 -0700" or "02.01.2006 15:04".
// Such text can be read by position, without time.Parse's allocations
// (string(text), a FixedZone per offset) and layout interpretation. What
// the fast reader does not accept exactly (a one-digit hour, a fraction,
// extra spaces, anything out of range) goes to time.Parse, so results and
// errors are time.Parse's.
type fixedLayout struct {
	fields []layoutField
	size   int // the length of every text the layout accepts here
}

type layoutField struct {
	kind fieldKind
	at   int
	lit  byte // fLiteral
}

type fieldKind uint8

const (
	fLiteral   fieldKind = iota
	fYear                // 2006
	fMonth               // 01
	fDay                 // 02
	fHour                // 15
	fMinute              // 04
	fSecond              // 05
	fZone                // -0700
	fZoneColon           // -07:00
)

// width is how many bytes of text a field takes.
var width = [...]int{fLiteral: 1, fYear: 4, fMonth: 2, fDay: 2, fHour: 2, fMinute: 2, fSecond: 2, fZone: 5, fZoneColon: 6}

// newFixedLayout returns nil for a layout with any other element (month
// or day names, 12-hour clock, fractions, zone names, unpadded numbers):
// those stay with time.Parse. Elements are recognised as time.Format
// does, and the result is checked against time.Parse on sample times.
func newFixedLayout(layout string) *fixedLayout {
	l := &fixedLayout{}
	seen := map[fieldKind]bool{}
	for i := 0; i < len(layout); {
		rest := layout[i:]
		var k fieldKind
		switch {
		case hasPrefix(rest, "2006"):
			k = fYear
		case hasPrefix(rest, "01"):
			k = fMonth
		case hasPrefix(rest, "02"):
			k = fDay
		case hasPrefix(rest, "15"):
			k = fHour
		case hasPrefix(rest, "04"):
			k = fMinute
		case hasPrefix(rest, "05"):
			k = fSecond
		case hasPrefix(rest, "-070000"), hasPrefix(rest, "-07:00:00"):
			return nil
		case hasPrefix(rest, "-0700"):
			k = fZone
		case hasPrefix(rest, "-07:00"):
			k = fZoneColon
		case hasPrefix(rest, "-07"):
			return nil
		case isFraction(rest):
			return nil
		case rest[0] == ' ' || rest[0] == '-' || rest[0] == '.' || rest[0] == ',' ||
			rest[0] == ':' || rest[0] == '/' || rest[0] == 'T':
			k = fLiteral
		default:
			return nil
		}
		if k != fLiteral {
			if seen[k] || k == fZoneColon && seen[fZone] || k == fZone && seen[fZoneColon] {
				return nil // time.Parse lets the last one win; rare enough to leave to it
			}
			seen[k] = true
		}
		l.fields = append(l.fields, layoutField{kind: k, at: l.size, lit: rest[0]})
		l.size += width[k]
		if k == fLiteral {
			i++
		} else {
			i += len(layoutText(k))
		}
	}
	if !seen[fYear] || !seen[fMonth] || !seen[fDay] {
		return nil
	}
	// Guard against reading a layout differently from time.Parse.
	for _, tm := range []time.Time{
		time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 58, 0, time.FixedZone("", -(9*3600+30*60))),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("", 14*3600)),
	} {
		text := []byte(tm.Format(layout))
		want, err := time.Parse(layout, string(text))
		got, ok := l.parse(text, false)
		day, dayOK := l.parse(text, true)
		y, m, d := want.Date()
		if err != nil || !ok || got != want.Unix() || !dayOK || day != time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() {
			return nil
		}
	}
	return l
}

// isFraction reports whether a layout continues with a fraction of a
// second as time.Format reads it: '.' or ',' and a run of 0s or of 9s
// that no other digit follows (".000", but not the ".0" of ".01").
func isFraction(layout string) bool {
	if len(layout) < 2 || layout[0] != '.' && layout[0] != ',' || layout[1] != '0' && layout[1] != '9' {
		return false
	}
	j := 1
	for j < len(layout) && layout[j] == layout[1] {
		j++
	}
	return j == len(layout) || layout[j] < '0' || layout[j] > '9'
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

func layoutText(k fieldKind) string {
	return [...]string{fYear: "2006", fMonth: "01", fDay: "02", fHour: "15", fMinute: "04", fSecond: "05", fZone: "-0700", fZoneColon: "-07:00"}[k]
}

// parse reads t when it matches the layout exactly and every number is in
// range; ok false means "ask time.Parse". The time is in Unix seconds,
// as toTime wants it: for a date, the calendar date as written, whatever
// its zone; else the time written less the zone's offset.
func (l *fixedLayout) parse(t []byte, date bool) (sec int64, ok bool) {
	if len(t) != l.size {
		return 0, false
	}
	var num [fSecond + 1]int // the numbers read, by field kind
	offset := 0
	for _, f := range l.fields {
		b := t[f.at : f.at+width[f.kind]]
		switch f.kind {
		case fLiteral:
			if b[0] != f.lit {
				return 0, false
			}
		case fZone, fZoneColon:
			if f.kind == fZoneColon && b[3] != ':' {
				return 0, false
			}
			oh, ok1 := atoi(b[1:3])
			om, ok2 := atoi(b[len(b)-2:])
			if !ok1 || !ok2 || oh > 24 || om > 60 { // time.Parse's limits
				return 0, false
			}
			offset = (oh*60 + om) * 60
			switch b[0] {
			case '+':
			case '-':
				offset = -offset
			default:
				return 0, false
			}
		default:
			if num[f.kind], ok = atoi(b); !ok {
				return 0, false
			}
		}
	}
	y, mo, d, hh, mm, ss := num[fYear], num[fMonth], num[fDay], num[fHour], num[fMinute], num[fSecond]
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || hh > 23 || mm > 59 || ss > 59 {
		return 0, false
	}
	days := unixDays(y, mo, d)
	if date {
		return days * secondsPerDay, true
	}
	return days*secondsPerDay + int64(hh*3600+mm*60+ss-offset), true
}
