package identity

import (
	"strings"

	"github.com/desilo/desilo/core/normalize"
)

// Placeholder reports whether value, an output of the normalizer called
// normalizer, is one of the shipped default blocklist values:
//
//   - any key: n/a, na, none, null, nil, -, ?, unknown, unbekannt, test,
//     keine, k.a., x, all-zero values such as 0000, and the like (na, no
//     and ka not for names: they are surnames too);
//   - email: role mailboxes (info@, support@, noreply@, sales@,
//     kontakt@, ... at any domain, also with a +tag), placeholder
//     addresses (test@, none@, noemail@, dummy@, ... at any domain; a
//     local part equal to the domain's first label, as in a@a.com or
//     test@test.de) and the reserved domains example.com/.net/.org and
//     .example, .test, .invalid, .localhost;
//   - phone: national numbers of one repeated digit (+49 1111111) or a
//     straight run (1234567, 0123456789, 987654321);
//   - date: 1900-01-01 and 1970-01-01, the usual stand-ins for unknown.
func Placeholder(normalizer, value string) bool {
	v := strings.ToLower(value)
	if normalizer == "name" && surnames[v] {
		return false
	}
	if placeholderWords[v] || strings.Trim(v, "0") == "" {
		return true
	}
	switch normalizer {
	case "email":
		return placeholderEmail(v)
	case "phone":
		return placeholderPhone(value)
	case "date":
		return v == "1900-01-01" || v == "1970-01-01"
	}
	return false
}

var placeholderWords = set(
	"n/a", "n.a.", "n.a", "na", "n/v", "none", "null", "nil", "nan", "-", "--", "---", "?", "??", ".", "_",
	"unknown", "unbekannt", "test", "testing", "keine", "kein", "k.a.", "k.a", "ka", "x", "xx", "xxx",
	"tbd", "dummy", "fake", "undefined", "empty", "leer", "no", "nein", "not available", "not applicable",
)

// surnames are placeholder words that are real names too (Na, No and Ka
// are Korean surnames): a name normalizer's values keep them.
var surnames = set("na", "no", "ka")

var roleLocals = set(
	"info", "support", "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
	"team", "sales", "admin", "administrator", "contact", "hello", "hallo", "office", "service", "kontakt",
	"mail", "email", "e-mail", "post", "postmaster", "hostmaster", "webmaster", "abuse", "root",
	"mailer-daemon", "bounce", "bounces", "billing", "accounts", "accounting", "buchhaltung", "rechnung",
	"rechnungen", "invoice", "invoices", "orders", "order", "bestellung", "bestellungen", "shop", "help",
	"helpdesk", "hilfe", "hr", "jobs", "karriere", "careers", "bewerbung", "marketing", "newsletter",
	"news", "press", "presse", "security", "privacy", "datenschutz", "legal", "finance", "notifications",
	"notification", "verwaltung", "vertrieb", "zentrale", "empfang", "reception", "feedback",
	"customerservice", "customer-service", "kundenservice", "kundendienst", "service-desk", "servicedesk",
	"enquiries", "inquiries", "anfrage", "anfragen", "mailbox", "general",
)

var placeholderLocals = set(
	"test", "tester", "testing", "none", "noemail", "no-email", "no_email", "nomail", "no-mail", "keine",
	"keinemail", "null", "nobody", "dummy", "fake", "unknown", "unbekannt", "na", "n.a", "x", "xx", "xxx",
	"abc", "asdf", "example", "sample", "foo", "bar", "user", "someone", "anonymous", "email", "mail",
)

var reservedDomains = set("example.com", "example.net", "example.org")

var reservedTLDs = []string{".example", ".test", ".invalid", ".localhost"}

func placeholderEmail(v string) bool {
	local, domain, ok := strings.Cut(v, "@")
	if !ok {
		return false
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	if roleLocals[local] || placeholderLocals[local] || reservedDomains[domain] {
		return true
	}
	for _, t := range reservedTLDs {
		if strings.HasSuffix(domain, t) {
			return true
		}
	}
	first, _, _ := strings.Cut(domain, ".")
	return local == first
}

func placeholderPhone(key string) bool {
	e164, _, _ := strings.Cut(key, ";ext=")
	_, n, ok := normalize.PhoneNational(e164)
	if !ok || len(n) < 6 {
		return false
	}
	same, up, down := true, true, true
	for i := 1; i < len(n); i++ {
		d := int(n[i]) - int(n[i-1])
		same = same && d == 0
		up = up && d == 1
		down = down && d == -1
	}
	return same || up || down
}

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}
