package gen

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// person is one human behind the records, with the true values that the
// silos then write down, each in its own way.
type person struct {
	id          string // the ground truth's person_id
	first, last string
	female      bool
	street      string
	city        *city
	zip         string
	email       string // the current address
	oldEmail    string // set when the person changed address
	mobile      string // national significant number, e.g. 15112345678
	landline    string // national significant number; shared within a household
	sharedPhone bool   // the landline is the household's
	firm        *firm
	roleMailbox bool // writes from the firm's info@ address in the CRM
	since       time.Time

	inCRM, inShop, inHelpdesk, inMail, inWoo bool
	bridge                                   bool
}

// firm is a small company a few people work at.
type firm struct {
	index  int
	name   string
	domain string
	phone  string
	city   *city
	zip    string
	since  time.Time
}

// people produces the people one after another: it keeps only the
// previous person (a household shares its landline and address) and the
// hashes of the addresses and numbers handed out, so addresses are unique.
type people struct {
	o    Options
	r    *rand.Rand
	n    int
	prev *person
	// household: the next person lives with prev.
	household bool
	// newFirms are the firms created since the caller last took them.
	newFirms []*firm
	firms    map[int]*firm // of the current block of people only
	used     map[uint64]struct{}
	start    time.Time
}

// peoplePerFirm is the size of the block of consecutive people who may
// share one employer.
const peoplePerFirm = 25

func newPeople(o Options) *people {
	return &people{
		o:     o,
		r:     rand.New(rand.NewPCG(o.Seed, 0x6465_7369_6c6f)), // "desilo"
		firms: map[int]*firm{},
		used:  map[uint64]struct{}{},
		start: o.End.AddDate(-o.Years, 0, 0),
	}
}

func (g *people) chance(p float64) bool { return g.r.Float64() < p }

func (g *people) pick(list []string) string { return list[g.r.IntN(len(list))] }

// claim reports whether v was not handed out before, and takes it.
func (g *people) claim(v string) bool {
	h := fnv.New64a()
	h.Write([]byte(v))
	k := h.Sum64()
	if _, ok := g.used[k]; ok {
		return false
	}
	g.used[k] = struct{}{}
	return true
}

// timeBetween returns a time in [from, to), in whole seconds.
func (g *people) timeBetween(from, to time.Time) time.Time {
	d := to.Sub(from)
	if d <= time.Second {
		return from
	}
	return from.Add(time.Duration(g.r.Int64N(int64(d/time.Second))) * time.Second)
}

func (g *people) next() *person {
	g.n++
	p := &person{id: fmt.Sprintf("P%07d", g.n), female: g.chance(0.5)}
	if p.female {
		p.first = g.pick(femaleNames)
	} else {
		p.first = g.pick(maleNames)
	}
	p.since = g.timeBetween(g.start, g.o.End.AddDate(0, -1, 0))

	if q := g.prev; q != nil && g.household {
		// Lives with the previous person: same family name, address and landline.
		p.last, p.street, p.city, p.zip, p.landline = q.last, q.street, q.city, q.zip, q.landline
		p.sharedPhone = true
	} else {
		p.last = g.pick(lastNames)
		p.city = &cities[g.r.IntN(len(cities))]
		p.zip = fmt.Sprintf("%05d", p.city.zipFrom+g.r.IntN(p.city.zipCount))
		p.street = g.pick(streets) + " " + strconv.Itoa(1+g.r.IntN(120))
		if g.chance(0.3) {
			p.landline = g.landline(p.city)
		}
	}
	if p.landline == "" || g.chance(0.7) {
		p.mobile = g.mobile()
	}
	p.email = g.email(p.first, p.last)
	if g.chance(g.o.EmailChange) {
		p.oldEmail = p.email
		p.email = g.email(p.first, p.last)
		p.bridge = g.chance(g.o.Bridge)
	}

	block := (g.n - 1) / peoplePerFirm
	if (g.n-1)%peoplePerFirm == 0 {
		clear(g.firms)
	}
	if g.chance(0.3) {
		p.firm = g.firmOf(block)
		p.roleMailbox = g.chance(g.o.RoleMailbox)
	}

	p.inCRM = g.chance(g.o.CRMRate)
	p.inShop = g.chance(g.o.ShopRate)
	p.inHelpdesk = g.chance(g.o.HelpdeskRate)
	p.inMail = g.chance(g.o.MailRate)
	p.inWoo = g.chance(g.o.WooRate)
	if !p.inCRM && !p.inShop && !p.inHelpdesk && !p.inMail {
		p.inCRM = true
	}
	// Whether the next person lives here is decided now, while this
	// person's records, which must then show the family landline, are
	// still to be written.
	g.household = g.chance(g.o.SharedPhone)
	if g.household {
		if p.landline == "" {
			p.landline = g.landline(p.city)
		}
		p.sharedPhone = true
	}
	g.prev = p
	return p
}

// firmOf returns the firm of a block of people; a block has one firm.
func (g *people) firmOf(block int) *firm {
	if f, ok := g.firms[block]; ok {
		return f
	}
	owner := g.pick(lastNames)
	word := g.pick(firmWords)
	c := &cities[g.r.IntN(len(cities))]
	f := &firm{
		index: block,
		name:  owner + " " + word + " " + g.pick(firmForms),
		city:  c,
		zip:   fmt.Sprintf("%05d", c.zipFrom+g.r.IntN(c.zipCount)),
		phone: g.landline(c),
		since: g.timeBetween(g.start, g.o.End.AddDate(0, -6, 0)),
	}
	// The block number keeps the domain unique.
	f.domain = ascii(owner) + "-" + ascii(word) + "-" + strconv.Itoa(block+1) + ".de"
	g.firms[block] = f
	g.newFirms = append(g.newFirms, f)
	return f
}

func (g *people) digits(n int) string {
	b := make([]byte, n)
	b[0] = byte('2' + g.r.IntN(8)) // no leading 0 or 1: those are not subscriber numbers
	for i := 1; i < n; i++ {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *people) mobile() string {
	for {
		m := mobilePrefixes[g.r.IntN(len(mobilePrefixes))]
		if n := m.prefix + g.digits(m.digits); g.claim("tel:" + n) {
			return n
		}
	}
}

func (g *people) landline(c *city) string {
	for {
		if n := c.area + g.digits(c.subscriber); g.claim("tel:" + n) {
			return n
		}
	}
}

// email makes a unique address in one of the usual shapes.
func (g *people) email(first, last string) string {
	f, l := ascii(first), ascii(last)
	for attempt := 0; ; attempt++ {
		var local string
		switch g.r.IntN(6) {
		case 0:
			local = f + "." + l
		case 1:
			local = f[:1] + "." + l
		case 2:
			local = f + l
		case 3:
			local = l + "." + f
		case 4:
			local = f + "_" + l
		default:
			local = f + "." + l + strconv.Itoa(50+g.r.IntN(50))
		}
		if attempt > 2 {
			local += strconv.Itoa(g.r.IntN(10000))
		}
		if e := local + "@" + g.pick(providers); g.claim(e) {
			return e
		}
	}
}

// ascii writes a name the way it ends up in an e-mail address or domain.
func ascii(s string) string {
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "ae", "Ö", "oe", "Ü", "ue", "ß", "ss", " ", "-", "&", "", ".", "")
	return strings.ToLower(r.Replace(s))
}

// Noise: how one record writes a true value.

// emailAs writes an address, sometimes with odd case or spaces around it.
func (g *people) emailAs(e string) string {
	if e == "" || !g.chance(g.o.EmailNoise) {
		return e
	}
	switch g.r.IntN(3) {
	case 0:
		return strings.ToUpper(e[:1]) + e[1:]
	case 1:
		return " " + e + " "
	default:
		local, domain, _ := strings.Cut(e, "@")
		return local + "@" + strings.ToUpper(domain)
	}
}

// phoneAs writes a national significant number in one of the national or
// international forms people type.
func (g *people) phoneAs(nsn string, area int) string {
	head, tail := nsn[:area], nsn[area:]
	if g.chance(g.o.PhoneIntl) {
		switch g.r.IntN(3) {
		case 0:
			return "+49 " + head + " " + tail
		case 1:
			return "+49" + nsn
		default:
			return "0049 " + head + " " + tail
		}
	}
	switch g.r.IntN(3) {
	case 0:
		return "0" + head + " " + tail
	case 1:
		return "0" + head + "/" + tail
	default:
		return "0" + nsn
	}
}

// phoneOf picks the number a record has of the person: the mobile or the
// landline (the landline when the person has both and preferLandline).
// area is the length of its area code or mobile prefix.
func phoneOf(p *person, preferLandline bool) (nsn string, area int) {
	switch {
	case p.landline != "" && (preferLandline || p.mobile == ""):
		return p.landline, len(p.city.area)
	case p.mobile != "":
		return p.mobile, 3
	}
	return "", 0
}

// namesAs returns first and last name as a record has them: sometimes
// with a typo, sometimes swapped.
func (g *people) namesAs(p *person) (first, last string) {
	first, last = p.first, p.last
	if g.chance(g.o.Typo) {
		if g.chance(0.5) {
			first = g.typo(first)
		} else {
			last = g.typo(last)
		}
	}
	if g.chance(g.o.SwappedNames) {
		first, last = last, first
	}
	return first, last
}

// typo drops, doubles or swaps a letter (never the first).
func (g *people) typo(s string) string {
	r := []rune(s)
	if len(r) < 3 {
		return s
	}
	i := 1 + g.r.IntN(len(r)-2)
	switch g.r.IntN(3) {
	case 0:
		return string(append(r[:i:i], r[i+1:]...))
	case 1:
		return string(append(r[:i+1:i+1], r[i:]...))
	default:
		r[i], r[i+1] = r[i+1], r[i]
		return string(r)
	}
}
