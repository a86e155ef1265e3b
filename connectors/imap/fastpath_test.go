package imap

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The fast paths against the general code they shortcut, on generated
// inputs (mostly of the shapes the fast paths take, with every kind of
// near miss mixed in) and on fuzzed ones.

// checkFastAddressList fails when fastAddressList takes v and disagrees
// with parseAddressList; it reports whether it took v.
func checkFastAddressList(t *testing.T, v string) bool {
	t.Helper()
	got, ok := fastAddressList(v)
	if !ok {
		return false
	}
	if want := parseAddressList(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("fastAddressList(%q) = %#v, parseAddressList: %#v", v, got, want)
	}
	return true
}

func qWord(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			b.WriteByte('_')
		case c > ' ' && c < 0x7f && c != '=' && c != '?' && c != '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

func TestFastAddressListEquivalent(t *testing.T) {
	names := []string{
		"", "Sophie", "Sophie Weber", "Sophie  Weber", "Sophie\tWeber", "=?UTF-8?q?J=C3=B6rg_Winkler?=", "A. B. Miller", "O'Brien",
		" Sophie Weber\t", "x.y", ".dot", "dot.", "a..b", "Ann-Kathrin Müller", "J\xfcrgen", "Weber, Sophie", `"Sophie Weber"`, `"Weber, Sophie"`,
		"a=b", "a?b", "=?", "=?=", "Sophie (home)", "Sophie@home", "Sophie:", "Sophie;", "[x]", "Sophie\\", "a_b", "!#$%&*+/^`{|}~",
		"=?utf-8?Q?J=c3=b6rg?= Winkler", "Dr. =?UTF-8?q?J=C3=B6rg?=", "=?UTF-8?q?J=C3=B6rg?= =?UTF-8?q?_Winkler?=",
		"=?UTF-8?q?J=C3=B6rg?=\t=?UTF-8?b?V2lua2xlcg==?= x", "=?UTF-8?b?" + base64.StdEncoding.EncodeToString([]byte("Käthe Beck")) + "?=",
		"=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("\xff\xfe bad")) + "?=", "=?UTF-8?q??=", "a =?UTF-8?q??= b", "=?UTF-8?q??= b", "a =?UTF-8?q??=",
		"=?UTF-8?q??= =?UTF-8?q??=", "=?UTF-8?q?_?=", "=?UTF-8?q?a=?=", "=?UTF-8?q?a=C?=", "=?UTF-8?q?a=CG?=", "=?UTF-8?q?a=e4?=", "=?UTF-8?q?a\x01?=",
		"=?UTF-8?x?abc?=", "=?UTF-8?qq?abc?=", "=??q?abc?=", "=?UTF-8?q?a?b?=", "=?UTF-8?b?abc?=", "=?UTF-8?b?YW==?=", "=?UTF-8?b?YQ?=",
		"=?ISO-8859-1?Q?J=FCrgen?=", "=?us-ascii?q?x?=", "=?x-unknown?q?x?=", "=?UTF-8*de?q?x?=", "x=?UTF-8?q?y?=", "=?UTF-8?q?y?=x",
		"=?UTF-8?q?" + qWord("Grüße aus <Köln>, \"Süd\"") + "?=", "=?UTF-8?q?a\"b?=", "=?UTF-8?q?a(b)?=", "=?UTF-8?q?a[b]?=", "=?UTF-8?q?a\\b?=",
	}
	addrs := []string{
		"sophie.weber@netzbrief.de", "a@b", "a.b.c@d.e.f", "a+tag@x.org", "!#$%&'*+/=?^_`{|}~-@x.org", ".a@b", "a.@b", "a..b@c",
		"a@.b", "a@b.", "a@b..c", "a@", "@b", "a", "a@b@c", "a@[127.0.0.1]", `"a b"@c`, "a b@c", "a@b c", "ä@b", "a@b\r", "a@(c)b",
		"A@B.ORG", "a@b=c", "a@b?c", "<a@b>",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Half the time one of the first names and addresses, which the fast
	// path takes.
	pick := func(l []string, good int) string {
		if rng.IntN(2) == 0 {
			return l[rng.IntN(good)]
		}
		return l[rng.IntN(len(l))]
	}
	mailbox := func() string {
		name, addr := pick(names, 8), pick(addrs, 4)
		switch rng.IntN(5) {
		case 0:
			return addr
		case 1:
			return name + "<" + addr + ">"
		case 2:
			return name + " < " + addr + " >"
		}
		return name + " <" + addr + ">"
	}
	seps := []string{",", ", ", " , ", ",\t", ",,", ", ,", "\t,"}
	taken := 0
	for range 200000 {
		v := mailbox()
		for range rng.IntN(3) {
			v += seps[rng.IntN(len(seps))] + mailbox()
		}
		switch rng.IntN(10) {
		case 0:
			v = " " + v
		case 1:
			v += "\t"
		case 2:
			v += ","
		case 3:
			v = "," + v
		}
		if checkFastAddressList(t, v) {
			taken++
		}
	}
	for _, v := range []string{"", " ", ",", "a@b,", "undisclosed-recipients:;", "group: a@b, c@d;", "a@b (comment)", "(c) a@b"} {
		checkFastAddressList(t, v)
	}
	t.Logf("fast path taken for %d of 200000 lists", taken)
	if taken < 20000 {
		t.Errorf("the fast path took only %d lists: the test tests little", taken)
	}
	for _, v := range []string{"Sophie Weber <sophie.weber@netzbrief.de>", "a@b.c", "=?UTF-8?q?J=C3=B6rg_Winkler?= <j@x.de>, Support <s@x.de>"} {
		if !checkFastAddressList(t, v) {
			t.Errorf("fastAddressList(%q) did not take a common shape", v)
		}
	}
}

func FuzzFastAddressList(f *testing.F) {
	for _, s := range []string{
		"Sophie Weber <sophie.weber@netzbrief.de>", "a@b.c, D <d@e.f>", "=?UTF-8?q?J=C3=B6rg_Winkler?= <j@x.de>",
		"=?UTF-8?b?S8OkdGhlIEJlY2s=?= <beck.kaethe@webkiste.de>", "a =?UTF-8?q??= b <a@b>", "x\t\ty <a..b@c>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkFastAddressList(t, v)
	})
}

// slowDate is what parse made of a date before fastDateRFC3339.
func slowDate(v string) (string, bool) {
	d, err := parseDate(toUTF8(v))
	if err != nil {
		return "", false
	}
	return d.Format(time.RFC3339), true
}

func checkFastDate(t *testing.T, v string) bool {
	t.Helper()
	got, ok := fastDateRFC3339(v)
	if !ok {
		return false
	}
	if want, wantOK := slowDate(v); !wantOK || got != want {
		t.Fatalf("fastDateRFC3339(%q) = %q, the slow path: %q (ok %v)", v, got, want, wantOK)
	}
	return true
}

func TestFastDateEquivalent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	layouts := []string{rfc5322Date, "Mon, 02 Jan 2006 15:04:05 -0700", "Mon, _2 Jan 2006 15:04:05 -0700", "Mon,  2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 06 15:04:05 -0700", "Mon, 2 Jan 2006 15:04 -0700",
		"Mon, 2 Jan 2006 3:04:05 -0700", "Mon, 2 Jan 2006 15:04:05.000 -0700", "Mon, 2 Jan 2006 15:04:05 -07:00", "Mon, 2 January 2006 15:04:05 -0700",
		"Monday, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 -0700 (MST)", time.RFC3339}
	taken := 0
	for range 300000 {
		// Years from 0 to 9999 with a bias to now, any offset in whole
		// minutes up to ±26 hours.
		year := 1990 + rng.IntN(60)
		if rng.IntN(10) == 0 {
			year = rng.IntN(10000)
		}
		off := rng.IntN(26*60*2+1) - 26*60
		if rng.IntN(4) == 0 {
			off = (rng.IntN(29) - 14) * 60
		}
		tm := time.Date(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.FixedZone("", off*60))
		v := tm.Format(layouts[rng.IntN(len(layouts))])
		if rng.IntN(8) == 0 {
			v = mutateDate(rng, v)
		}
		if checkFastDate(t, v) {
			taken++
		}
	}
	for _, v := range []string{
		"Mon, 29 Feb 2024 10:00:00 +0100", "Mon, 29 Feb 2023 10:00:00 +0100", "Mon, 29 Feb 2000 10:00:00 +0100", "Mon, 29 Feb 1900 10:00:00 +0100",
		"Mon, 31 Apr 2024 10:00:00 +0100", "Mon, 0 Apr 2024 10:00:00 +0100", "Mon, 00 Apr 2024 10:00:00 +0100", "Mon, 1 Apr 0000 00:00:00 -0000",
		"Fri, 31 Dec 9999 23:59:59 +2359", "Fri, 31 Dec 9999 23:59:59 -2359", "Mon, 1 Jan 2024 24:00:00 +0000", "Mon, 1 Jan 2024 23:60:00 +0000",
		"Mon, 1 Jan 2024 23:00:60 +0000", "Mon, 1 Jan 2024 23:00:00 +2400", "Mon, 1 Jan 2024 23:00:00 +0060", "Mon, 1 Jan 2024 23:00:00 +0000",
		"Mon, 1 Jan 2024 23:00:00 -0000", "Mon, 1 Jan 2024 23:00:00 +0001", "Mon, 1 Jan -024 23:00:00 +0001", "Mon, 1 Jan 2024 23:00:00 +00-1",
		"mon, 1 Jan 2024 23:00:00 +0000", "Mon, 1 jan 2024 23:00:00 +0000", "MON, 1 JAN 2024 23:00:00 +0000", "Xyz, 1 Jan 2024 23:00:00 +0000",
		"Mon, 1 Jan 2024 23:00:00 +0000 ", " Mon, 1 Jan 2024 23:00:00 +0000", "Mon, 1 Jan 2024 23:00:00\t+0000", "Mon,\t1 Jan 2024 23:00:00 +0000",
		"Mon, 123 Jan 2024 23:00:00 +0000", "Mon, 1 Jan 20245 23:00:00 +0000", "Mon, 1 Jan 2024 23:00:00 +00000", "Mon, 1 Jan 2024 23:0:00 +0000",
		"Mon, 1 Jan 2024 23:00:00 +0\xe400", "Mon, 1 Jan 2024 23:00:00 +0\r\n00",
	} {
		checkFastDate(t, v)
	}
	t.Logf("fast path taken for %d of 300000 dates", taken)
	if taken < 30000 {
		t.Errorf("the fast path took only %d dates: the test tests little", taken)
	}
	for _, v := range []string{"Mon, 15 Apr 2024 08:46:14 +0200", "Tue, 03 Sep 2024 12:01:34 -0000", "Wed, 1 Feb 2023 10:00:00 +0000", "Thu, 29 Feb 2024 23:59:59 -1130"} {
		if !checkFastDate(t, v) {
			t.Errorf("fastDateRFC3339(%q) did not take a common date", v)
		}
	}
}

// mutateDate changes, removes or inserts one byte, biased to the bytes
// dates are made of.
func mutateDate(rng *rand.Rand, v string) string {
	const alphabet = "0123456789 +-:,.ADFJMNOSTWadefghlnoprtuvy\t\xe4"
	i := rng.IntN(len(v))
	c := string(alphabet[rng.IntN(len(alphabet))])
	switch rng.IntN(3) {
	case 0:
		return v[:i] + c + v[i+1:]
	case 1:
		return v[:i] + v[i+1:]
	}
	return v[:i] + c + v[i:]
}

func FuzzFastDate(f *testing.F) {
	for _, s := range []string{"Mon, 15 Apr 2024 08:46:14 +0200", "Tue, 03 Sep 2024 12:01:34 -0000", "Thu, 29 Feb 2024 23:59:59 -1130", "Mon, 31 Apr 2024 10:00:00 +2400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkFastDate(t, v)
	})
}

func checkFirstMsgID(t *testing.T, v string) {
	t.Helper()
	ids := referenceMsgIDs(v)
	if got := msgIDs(v); !slices.Equal(got, ids) {
		t.Fatalf("msgIDs(%q) = %q, the reference gives %q", v, got, ids)
	}
	want := ""
	if len(ids) > 0 {
		want = ids[0]
	}
	if got := firstMsgID(v); got != want {
		t.Fatalf("firstMsgID(%q) = %q, the reference's first id is %q", v, got, want)
	}
}

// referenceMsgIDs is msgIDs as it was written before msgIDSeq: <id>
// tokens, else the header's words holding an @.
func referenceMsgIDs(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(v[i+1 : i+j]); id != "" {
			ids = append(ids, id)
		}
		v = v[i+j+1:]
	}
	if ids == nil {
		for _, w := range strings.Fields(v) {
			if strings.Contains(w, "@") {
				ids = append(ids, w)
			}
		}
	}
	return ids
}

func TestFirstMsgIDEquivalent(t *testing.T) {
	parts := []string{"<a@b>", "< a@b >", "<>", "< >", "<", ">", " ", "\t", "a@b", "x", "(comment)", "<c@d>", "\u00a0", "@"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		checkFirstMsgID(t, b.String())
	}
}

func FuzzFirstMsgID(f *testing.F) {
	f.Add("<a@b> <c@d>")
	f.Add("<> x@y")
	f.Add("< x@y")
	f.Fuzz(func(t *testing.T, v string) {
		checkFirstMsgID(t, v)
	})
}

func TestSubjectCacheEquivalent(t *testing.T) {
	p := newParser(&Config{})
	subjects := []string{"", "plain", "=?UTF-8?q?Gr=C3=BC=C3=9Fe?=", "=?ISO-8859-1?Q?Gr=FC=DFe?= aus", "Pr\xe4sentation", "=?x-unknown?q?a?=", "a =? b", "\xff=?UTF-8?q?x?="}
	for range 3 { // the second and third time from the cache
		for _, s := range subjects {
			if got, want := p.subject(s), text(s); got != want {
				t.Fatalf("subject(%q) = %q, text: %q", s, got, want)
			}
		}
	}
}

func TestParserOwnAddressEquivalent(t *testing.T) {
	cfg := &Config{OwnAddresses: []string{" Sales@ACME.example ", "@Lindenblatt-Kaffee.de", "ß@x.org"}}
	p := newParser(cfg)
	for _, a := range []string{"", " ", "sales@acme.example", "SALES@acme.example ", "x@lindenblatt-kaffee.de", "x@LINDENBLATT-KAFFEE.DE", "lindenblatt-kaffee.de", "SS@x.org", "ß@X.org", "x@y"} {
		if got, want := p.ownAddress(a), cfg.ownAddress(a); got != want {
			t.Errorf("parser.ownAddress(%q) = %v, Config.ownAddress: %v", a, got, want)
		}
	}
}
