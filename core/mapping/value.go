package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// kind is what a value holds while an expression is evaluated.
type kind uint8

const (
	kEmpty  kind = iota // missing, null, or empty after trimming/translation
	kString             // text
	kNumber             // text: a JSON number literal
	kBool               // b
	kObject             // text: raw JSON
	kArray              // text: raw JSON
	kInt                // i
	kFloat              // f
	kTime               // i and nsec (UTC); date: a calendar date at midnight UTC
)

// value is an intermediate value. text points into the record or into the
// per-record buffer; it is copied into a Go string only when it lands in a
// row.
//
// Values are passed and returned by value all along an expression's
// evaluation, so they are kept small: a time is its Unix seconds (in i)
// and nanoseconds, not a 24-byte time.Time.
type value struct {
	kind kind
	date bool
	b    bool
	nsec int32 // kTime: the nanoseconds of second i
	text []byte
	i    int64 // kInt; kTime: seconds since 1970-01-01 UTC
	f    float64
}

func timeValue(t time.Time, date bool) value {
	return value{kind: kTime, date: date, i: t.Unix(), nsec: int32(t.Nanosecond())}
}

// time returns a kTime value's time, in UTC.
func (v value) time() time.Time { return time.Unix(v.i, int64(v.nsec)).UTC() }

func (v value) describe() string {
	switch v.kind {
	case kString:
		return fmt.Sprintf("%q", clip(v.text))
	case kNumber:
		return "number " + string(clip(v.text))
	case kBool:
		return strconv.FormatBool(v.b)
	case kObject:
		return "an object"
	case kArray:
		return "an array"
	case kInt:
		return strconv.FormatInt(v.i, 10)
	case kFloat:
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	case kTime:
		if v.date {
			return v.time().Format(time.DateOnly)
		}
		return v.time().Format(time.RFC3339Nano)
	}
	return "empty"
}

// clip keeps reject reasons short; the raw payload is in the reject row.
func clip(b []byte) []byte {
	const max = 64
	if len(b) <= max {
		return b
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return append(b[:cut:cut], "..."...)
}

var (
	trueText  = []byte("true")
	falseText = []byte("false")
)

// text returns the value's text form: a string's content, a number's
// literal, booleans as true/false, times in RFC 3339 (dates as
// 2006-01-02). Objects and arrays have none.
func (st *state) text(v value) ([]byte, error) {
	switch v.kind {
	case kString, kNumber:
		return v.text, nil
	case kBool:
		if v.b {
			return trueText, nil
		}
		return falseText, nil
	case kInt:
		return st.commit(strconv.AppendInt(st.buf, v.i, 10)), nil
	case kFloat:
		return st.commit(appendFloat(st.buf, v.f)), nil
	case kTime:
		if v.date {
			return st.commit(v.time().AppendFormat(st.buf, time.DateOnly)), nil
		}
		return st.commit(v.time().AppendFormat(st.buf, time.RFC3339Nano)), nil
	}
	return nil, fmt.Errorf("is %s, not a single value", v.describe())
}

func appendFloat(b []byte, f float64) []byte {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// conv is a conversion to one of the model's types.
type conv uint8

const (
	cNone conv = iota
	cString
	cInteger
	cNumber
	cBoolean
	cTimestamp
	cDate
	cMoney
)

var convNames = map[string]conv{
	"string": cString, "integer": cInteger, "number": cNumber, "boolean": cBoolean,
	"timestamp": cTimestamp, "date": cDate, "money_minor": cMoney,
}

// layoutKind is how a timestamp or date is read.
type layoutKind uint8

const (
	lRFC3339 layoutKind = iota
	lEpochS
	lEpochMS
	lGo
)

// converter is a conversion with its parameters resolved at compile time.
type converter struct {
	conv   conv
	layout layoutKind
	goFmt  string       // lGo
	fixed  *fixedLayout // lGo: nil, or a faster reader of goFmt
	scale  float64      // cMoney: 10^Scale
}

func (st *state) convert(c *converter, v value) (value, error) {
	if v.kind == kEmpty {
		return v, nil
	}
	switch c.conv {
	case cString:
		switch v.kind {
		case kString:
			return v, nil
		case kObject, kArray:
			return value{}, fmt.Errorf("is %s, not a string", v.describe())
		}
		t, err := st.text(v)
		return value{kind: kString, text: t}, err
	case cInteger:
		return st.toInteger(v)
	case cNumber:
		return st.toNumber(v)
	case cBoolean:
		return st.toBoolean(v)
	case cTimestamp, cDate:
		return st.toTime(c, v)
	case cMoney:
		i, err := st.toInteger(v)
		if err != nil {
			return value{}, fmt.Errorf("%w (money_minor wants an integer amount in minor units)", err)
		}
		if i.kind == kEmpty {
			return i, nil
		}
		return value{kind: kFloat, f: float64(i.i) / c.scale}, nil
	}
	return v, nil
}

// scalarText returns the trimmed text of a value for parsing; empty text
// means no value.
func (st *state) scalarText(v value) ([]byte, error) {
	if v.kind == kObject || v.kind == kArray {
		return nil, fmt.Errorf("is %s, not a single value", v.describe())
	}
	t, err := st.text(v)
	return bytes.TrimSpace(t), err
}

func (st *state) toInteger(v value) (value, error) {
	switch v.kind {
	case kInt:
		return v, nil
	case kFloat:
		return floatToInt(v.f, v)
	case kBool:
		return value{}, fmt.Errorf("is %s, not an integer", v.describe())
	}
	t, err := st.scalarText(v)
	if err != nil || len(t) == 0 {
		return value{}, err
	}
	if !isDecimal(t) {
		return value{}, fmt.Errorf("%s is not an integer", v.describe())
	}
	if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
		return value{kind: kInt, i: i}, nil
	}
	// "12.0", "1e3": exact, as a float would round 9007199254740993.0 and
	// take 1.0000000000000001 for 1.
	r, ok := new(big.Rat).SetString(string(t))
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return value{}, fmt.Errorf("%s is not an integer", v.describe())
	}
	return value{kind: kInt, i: r.Num().Int64()}, nil
}

func floatToInt(f float64, v value) (value, error) {
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return value{}, fmt.Errorf("%s is not an integer", v.describe())
	}
	return value{kind: kInt, i: int64(f)}, nil
}

func (st *state) toNumber(v value) (value, error) {
	switch v.kind {
	case kFloat:
		return v, nil
	case kInt:
		return value{kind: kFloat, f: float64(v.i)}, nil
	case kBool:
		return value{}, fmt.Errorf("is %s, not a number", v.describe())
	}
	t, err := st.scalarText(v)
	if err != nil || len(t) == 0 {
		return value{}, err
	}
	if !isDecimal(t) {
		hint := ""
		if bytes.IndexByte(t, ',') >= 0 {
			hint = " (a decimal comma is ambiguous with a thousands separator: translate it upstream or with values)"
		}
		return value{}, fmt.Errorf("%s is not a number%s", v.describe(), hint)
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil { // out of range
		return value{}, fmt.Errorf("%s is not a number in range", v.describe())
	}
	return value{kind: kFloat, f: f}, nil
}

// isDecimal accepts [+-]digits[.digits][e[+-]digits], with digits on at
// least one side of the point: what strconv would parse, minus the hex,
// underscore, Inf and NaN forms no data source means as a number.
func isDecimal(t []byte) bool {
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		digits++
	}
	if i < len(t) && t[i] == '.' {
		for i++; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(t)
}

func (st *state) toBoolean(v value) (value, error) {
	if v.kind == kBool {
		return v, nil
	}
	t, err := st.scalarText(v)
	if err != nil || len(t) == 0 {
		return value{}, err
	}
	if len(t) <= 5 {
		var low [5]byte
		for i, c := range t {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			low[i] = c
		}
		switch string(low[:len(t)]) {
		case "true", "yes", "y", "1", "on":
			return value{kind: kBool, b: true}, nil
		case "false", "no", "n", "0", "off":
			return value{kind: kBool, b: false}, nil
		}
	}
	return value{}, fmt.Errorf("%s is not a boolean (true/false, yes/no, y/n, 1/0, on/off; translate others with values)", v.describe())
}

var errNoTime = errors.New("no time")

func (st *state) toTime(c *converter, v value) (value, error) {
	date := c.conv == cDate
	if v.kind == kTime {
		if date && !v.date {
			return timeValue(midnight(v.time()), true), nil
		}
		return v, nil
	}
	t, err := st.scalarText(v)
	if err != nil || len(t) == 0 {
		return value{}, err
	}
	var tm time.Time
	switch c.layout {
	case lRFC3339:
		if v.kind == kNumber || v.kind == kInt || v.kind == kFloat {
			return value{}, fmt.Errorf("is %s, not an RFC 3339 %s (set layout: epoch_s or epoch_ms for epoch numbers)", v.describe(), what(date))
		}
		if date {
			if y, m, d, ok := parseYMD(t); ok {
				return value{kind: kTime, date: true, i: unixDays(y, m, d) * secondsPerDay}, nil
			}
		}
		sec, nsec, err := rfc3339(t, date)
		if err != nil {
			return value{}, fmt.Errorf("%s is not an RFC 3339 %s (set a layout for another format)", v.describe(), what(date))
		}
		return value{kind: kTime, date: date, i: sec, nsec: nsec}, nil
	case lEpochS, lEpochMS:
		tm, err = parseEpoch(t, c.layout == lEpochMS)
		if err != nil {
			return value{}, fmt.Errorf("%s is not an epoch in %s: %w", v.describe(), epochUnit(c.layout), err)
		}
	case lGo:
		if c.fixed != nil {
			if sec, ok := c.fixed.parse(t, date); ok {
				return value{kind: kTime, date: date, i: sec}, nil
			}
		}
		tm, err = time.Parse(c.goFmt, string(t))
		if err != nil {
			return value{}, fmt.Errorf("%s does not match layout %q", v.describe(), c.goFmt)
		}
		if date { // the calendar date as written, whatever its zone
			y, m, d := tm.Date()
			return timeValue(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true), nil
		}
	}
	if date {
		return timeValue(midnight(tm), true), nil
	}
	return timeValue(tm, false), nil
}

func what(date bool) string {
	if date {
		return "date"
	}
	return "timestamp"
}

func epochUnit(l layoutKind) string {
	if l == lEpochMS {
		return "milliseconds"
	}
	return "seconds"
}

func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Epochs outside years 1000..9999 are almost always a unit mix-up
// (milliseconds read as seconds), so they are rejected, not stored.
var (
	minEpoch = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxEpoch = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

func parseEpoch(t []byte, ms bool) (time.Time, error) {
	if !isDecimal(t) {
		return time.Time{}, errors.New("not a number")
	}
	var sec, nsec int64
	if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
		sec = i
		if ms {
			sec, nsec = i/1000, i%1000*1e6
		}
	} else if sec, nsec, err = exactEpoch(t, ms); err == nil {
		// A plain decimal, read digit by digit: a float would turn
		// .000007 s into 6,999 ns.
	} else {
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.Abs(f) > 1e18 {
			return time.Time{}, errors.New("out of range")
		}
		if ms {
			f /= 1000
		}
		whole := math.Floor(f)
		sec, nsec = int64(whole), int64(math.Round((f-whole)*1e9))
	}
	if sec < minEpoch || sec >= maxEpoch {
		return time.Time{}, errors.New("outside the years 1000 to 9999 (wrong unit?)")
	}
	// Seconds read as milliseconds land in January 1970, inside the years
	// above: a millisecond epoch before 1973 is taken for a wrong unit.
	if ms && sec > -minMsEpoch && sec < minMsEpoch {
		return time.Time{}, errors.New("looks like seconds, not milliseconds (before 1973 as milliseconds): use layout epoch_s")
	}
	return time.Unix(sec, nsec).UTC(), nil
}

// minMsEpoch bounds a plausible millisecond epoch: 1e11 ms, March 1973.
const minMsEpoch = 100_000_000

// exactEpoch reads a decimal epoch without an exponent ("1704164645.000007",
// "-1.5") exactly, to the nanosecond.
func exactEpoch(t []byte, ms bool) (sec, nsec int64, err error) {
	neg := len(t) > 0 && t[0] == '-'
	if neg || len(t) > 0 && t[0] == '+' {
		t = t[1:]
	}
	whole, frac, ok := bytes.Cut(t, []byte{'.'})
	if !ok || len(whole) == 0 || bytes.ContainsAny(t, "eE") {
		return 0, 0, errors.New("not a plain decimal")
	}
	w, err := strconv.ParseInt(string(whole), 10, 64)
	if err != nil {
		return 0, 0, err
	}
	digits := 9 // of a second
	if ms {
		digits = 6 // of a millisecond
	}
	var f int64
	for i := range digits {
		f *= 10
		if i < len(frac) {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, 0, errors.New("not a plain decimal")
			}
			f += int64(frac[i] - '0')
		}
	}
	sec, nsec = w, f
	if ms {
		sec, nsec = w/1000, w%1000*1e6+f
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return sec, nsec, nil
}

// parseYMD reads and checks YYYY-MM-DD.
func parseYMD(t []byte) (y, m, d int, ok bool) {
	if len(t) != 10 || t[4] != '-' || t[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := atoi(t[0:4])
	m, ok2 := atoi(t[5:7])
	d, ok3 := atoi(t[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// parseRFC3339 reads YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM) without
// allocating; 't', 'z' and a space in place of 'T' are accepted, as RFC
// 3339 allows. For a date, the calendar date in the value's own offset is
// kept ("1980-05-01T00:00:00+02:00" is 1980-05-01).
func parseRFC3339(t []byte, date bool) (time.Time, error) {
	sec, nsec, err := rfc3339(t, date)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, int64(nsec)).UTC(), nil
}

// rfc3339 is parseRFC3339 returning the time as Unix seconds and
// nanoseconds, which is how a value holds it.
func rfc3339(t []byte, date bool) (sec int64, nsec int32, err error) {
	if len(t) < 20 {
		return 0, 0, errNoTime
	}
	y, mo, d, ok := parseYMD(t[:10])
	if !ok || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' || t[16] != ':' {
		return 0, 0, errNoTime
	}
	hh, ok1 := atoi(t[11:13])
	mm, ok2 := atoi(t[14:16])
	ss, ok3 := atoi(t[17:19])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return 0, 0, errNoTime
	}
	rest := t[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return 0, 0, errNoTime
		}
		// Nanoseconds: digits past the ninth are dropped, as time.Parse does.
		for i := 1; i <= 9; i++ {
			nsec *= 10
			if i < n {
				nsec += int32(rest[i] - '0')
			}
		}
		rest = rest[n:]
	}
	offset := 0
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := atoi(rest[1:3])
		om, ok2 := atoi(rest[4:6])
		// time.Parse reads hours up to 24 and minutes up to 60 (+00:60 is
		// an hour ahead): reading what it reads rejects no record it takes.
		if !ok1 || !ok2 || oh > 24 || om > 60 {
			return 0, 0, errNoTime
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, 0, errNoTime
	}
	days := unixDays(y, mo, d)
	if date {
		return days * secondsPerDay, 0, nil
	}
	return days*secondsPerDay + int64(hh*3600+mm*60+ss-offset), nsec, nil
}

const secondsPerDay = 24 * 60 * 60

// unixDays is the number of days from 1970-01-01 to a valid date of the
// proleptic Gregorian calendar (negative before), as time.Date counts
// them; it is Howard Hinnant's days_from_civil, a few multiplications
// where time.Date normalizes and converts in several steps.
func unixDays(y, m, d int) int64 {
	if m <= 2 {
		y-- // count years from March, so a leap day ends its year
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400                     // [0, 399]
	doy := (153*((m+9)%12)+2)/5 + d - 1    // [0, 365], from March 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return int64(era*146097 + doe - 719468)
}

func atoi(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
