package files

import (
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// latin1 decodes what csv.encoding: latin-1 reads: Windows-1252, as
// browsers and the WHATWG Encoding Standard decode the label latin1 (and
// iso-8859-1). Files called Latin-1 are mostly written by Windows
// programs, Excel first of all, in Windows-1252: ISO 8859-1 but for
// 0x80–0x9F, where ISO 8859-1 has invisible control characters and
// Windows-1252 has € ‚ „ … ‘ ’ “ ” – — ™ and more. The five bytes
// Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) decode to
// the control characters of the same number, as the WHATWG standard (and
// ISO 8859-1) has them, where charmap.Windows1252 would lose them to
// U+FFFD.
type latin1 struct{ transform.NopResetter }

// latin1High decodes the bytes 0x80–0xFF.
var latin1High = func() (t [128]rune) {
	for i := range t {
		b := byte(0x80 + i)
		t[i] = charmap.Windows1252.DecodeByte(b)
		if t[i] == utf8.RuneError {
			t[i] = rune(b)
		}
	}
	return t
}()

func (latin1) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for ; nSrc < len(src); nSrc++ {
		b := src[nSrc]
		if b < utf8.RuneSelf {
			if nDst == len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			dst[nDst] = b
			nDst++
			continue
		}
		r := latin1High[b-0x80]
		if len(dst)-nDst < utf8.RuneLen(r) {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += utf8.EncodeRune(dst[nDst:], r)
	}
	return nDst, nSrc, nil
}
