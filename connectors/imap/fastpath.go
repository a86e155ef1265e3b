package imap

import (
	"encoding/base64"
	"strings"
)

// Fast paths for the common shapes of header values. Each recognises a
// strict subset of what the general code accepts and gives exactly its
// result there (TestFast*Equivalent and Fuzz*Equivalent hold them to it);
// for anything else it answers ok false and the general code decides.

// fastAddressList parses v when it is a list of plain mailboxes, each
// "local@domain" or "Display Name <local@domain>", separated by commas
// and spaces or tabs: addresses of ASCII atext (no quoted local part, no
// domain literal, no comment), display names of ASCII atext words (no
// quoted string) or UTF-8 encoded words (RFC 2047). It returns what
// parseAddressList returns for v. Names and addresses are substrings of
// v where they can be (plain names with single spaces between words).
func fastAddressList(v string) ([]Address, bool) {
	n := strings.Count(v, ",") + 1
	out := make([]Address, 0, n)
	var buf [64]byte
	name := buf[:0] // a name being decoded
	for piece := range strings.SplitSeq(v, ",") {
		piece = trimSpaceTab(piece)
		if piece == "" {
			return nil, false
		}
		if piece[len(piece)-1] != '>' {
			if !isAddrSpec(piece) {
				return nil, false
			}
			out = append(out, Address{Address: piece})
			continue
		}
		lt := strings.IndexByte(piece, '<')
		if lt < 0 || !isAddrSpec(piece[lt+1:len(piece)-1]) {
			return nil, false
		}
		a := Address{Address: piece[lt+1 : len(piece)-1]}
		phrase := trimSpaceTab(piece[:lt])
		if phrase != "" {
			var ok bool
			if name, ok = appendPhrase(name[:0], phrase); !ok {
				return nil, false
			}
			if string(name) == phrase {
				a.Name = phrase // plain words between single spaces
			} else {
				a.Name = strings.ToValidUTF8(string(name), "\uFFFD")
			}
		}
		out = append(out, a)
	}
	return out, true
}

// appendPhrase appends the display name net/mail makes of phrase: its
// words joined by single spaces, except that adjacent encoded words are
// joined without one and a run of them that decodes to nothing is left
// out. ok is false unless every word is ASCII atext, and either plain
// (without "=" and "?", so nothing that could be taken for an encoded
// word) or a UTF-8 encoded word that decodes.
func appendPhrase(dst []byte, phrase string) ([]byte, bool) {
	start := len(dst)
	runStart := -1 // where the current run of encoded words starts in dst, -1 outside one
	for phrase != "" {
		end := 0
		for end < len(phrase) && !isSpace(phrase[end]) {
			end++
		}
		word := phrase[:end]
		phrase = phrase[end:]
		for phrase != "" && isSpace(phrase[0]) {
			phrase = phrase[1:]
		}
		for i := 0; i < len(word); i++ {
			if !isAtextASCII(word[i], true) {
				return dst, false // net/mail's atom would end there
			}
		}
		if strings.HasPrefix(word, "=?") {
			if runStart < 0 {
				if len(dst) > start {
					dst = append(dst, ' ')
				}
				runStart = len(dst)
			}
			var ok bool
			if dst, ok = appendEncodedWord(dst, word); !ok {
				return dst, false
			}
			continue
		}
		if strings.ContainsAny(word, "=?") {
			return dst, false
		}
		if runStart >= 0 && len(dst) == runStart {
			// The run of encoded words decoded to nothing: drop its
			// separator too.
			dst = dst[:max(start, runStart-1)]
		}
		runStart = -1
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		dst = append(dst, word...)
	}
	if runStart >= 0 && len(dst) == runStart {
		dst = dst[:max(start, runStart-1)]
	}
	return dst, true
}

// appendEncodedWord appends the decoded text of word, a whole RFC 2047
// encoded word in the UTF-8 charset, as mime.WordDecoder.Decode gives it;
// ok is false for anything else (another charset, a malformed word).
func appendEncodedWord(dst []byte, word string) ([]byte, bool) {
	if len(word) < 8 || !strings.HasPrefix(word, "=?") || !strings.HasSuffix(word, "?=") || strings.Count(word, "?") != 4 {
		return dst, false
	}
	charset, text, _ := strings.Cut(word[2:len(word)-2], "?")
	if !strings.EqualFold(charset, "utf-8") {
		return dst, false
	}
	encoding, text, _ := strings.Cut(text, "?")
	if len(encoding) != 1 {
		return dst, false
	}
	switch encoding[0] {
	case 'B', 'b':
		var err error
		n := len(dst)
		if dst, err = base64.StdEncoding.AppendDecode(dst, []byte(text)); err != nil {
			return dst[:n], false
		}
		return dst, true
	case 'Q', 'q':
		return appendQDecoded(dst, text)
	}
	return dst, false
}

// appendQDecoded is mime's qDecode: "_" is a space, "=XY" a hex byte.
func appendQDecoded(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			dst = append(dst, ' ')
		case c == '=':
			if i+2 >= len(s) {
				return dst, false
			}
			hi, ok1 := fromHexDigit(s[i+1])
			lo, ok2 := fromHexDigit(s[i+2])
			if !ok1 || !ok2 {
				return dst, false
			}
			dst = append(dst, hi<<4|lo)
			i += 2
		case c >= ' ' && c <= '~' || c == '\n' || c == '\r' || c == '\t':
			dst = append(dst, c)
		default:
			return dst, false
		}
	}
	return dst, true
}

func fromHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// isAddrSpec reports whether s is a dot-atom "@" dot-atom of ASCII atext,
// as net/mail's consumeAddrSpec reads it whole: neither part empty, and
// neither with a leading or trailing dot or two dots in a row.
func isAddrSpec(s string) bool {
	at := strings.IndexByte(s, '@')
	return at >= 0 && isDotAtom(s[:at]) && isDotAtom(s[at+1:])
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAtextASCII(s[i], true) || s[i] == '.' && s[i+1] == '.' {
			return false
		}
	}
	return true
}

// isAtextASCII is net/mail's isAtext for ASCII: a visible character that
// is not a special ("." counts when dot is set).
func isAtextASCII(c byte, dot bool) bool {
	switch c {
	case '.':
		return dot
	case '(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '"':
		return false
	}
	return '!' <= c && c <= '~'
}

// fastDateRFC3339 formats v as time.RFC3339 when it is a valid date in
// exactly rfc5322Date's layout as it is written: weekday and month names
// capitalised as there, single spaces, a one- or two-digit day, a
// two-digit hour and a zone offset under 24 hours. That is what
// parseDate(v) followed by Format(time.RFC3339) gives: Format prints the
// wall clock and offset time.Parse read, whichever location it attached.
func fastDateRFC3339(v string) (string, bool) {
	// "Mon, 2 Jan 2006 15:04:05 -0700", the day possibly "02".
	if len(v) < 29 || v[3] != ',' || v[4] != ' ' || !isWeekday(v[:3]) {
		return "", false
	}
	d := v[5:]
	var day int
	switch {
	case isDigit(d[0]) && d[1] == ' ':
		day, d = int(d[0]-'0'), d[2:]
	case isDigit(d[0]) && isDigit(d[1]) && d[2] == ' ':
		day, d = int(d[0]-'0')*10+int(d[1]-'0'), d[3:]
	default:
		return "", false
	}
	// d is "Jan 2006 15:04:05 -0700".
	if len(d) != 23 || d[3] != ' ' || d[8] != ' ' || d[11] != ':' || d[14] != ':' || d[17] != ' ' || d[18] != '+' && d[18] != '-' {
		return "", false
	}
	month := monthNumber(d[:3])
	year, ok1 := digits(d[4:8])
	hour, ok2 := digits(d[9:11])
	minute, ok3 := digits(d[12:14])
	sec, ok4 := digits(d[15:17])
	zh, ok5 := digits(d[19:21])
	zm, ok6 := digits(d[21:23])
	if month == 0 || !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 || zh > 23 || zm > 59 {
		return "", false
	}
	var b [25]byte // "2006-01-02T15:04:05-07:00"
	put2 := func(i, n int) { b[i], b[i+1] = byte('0'+n/10), byte('0'+n%10) }
	put2(0, year/100)
	put2(2, year%100)
	b[4] = '-'
	put2(5, month)
	b[7] = '-'
	put2(8, day)
	b[10] = 'T'
	copy(b[11:19], d[9:17])
	if zh == 0 && zm == 0 {
		b[19] = 'Z'
		return string(b[:20]), true
	}
	b[19] = d[18]
	put2(20, zh)
	b[22] = ':'
	put2(23, zm)
	return string(b[:]), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits reads a run of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func isWeekday(s string) bool {
	switch s {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

// monthNumber is 1 to 12 for "Jan" to "Dec", else 0.
func monthNumber(s string) int {
	switch s {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
