package gen

import (
	"encoding/json"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
)

// HubSpot's CRM export (Contacts and Companies, "Export" with the default
// properties): one row per record, columns named by the properties' labels.
var contactColumns = []string{
	"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
	"Company Name", "Street Address", "City", "Postal Code", "Country/Region",
	"Lifecycle Stage", "Create Date", "Last Modified Date",
}

var companyColumns = []string{
	"Record ID", "Company name", "Company Domain Name", "Phone Number", "City", "Postal Code",
	"Country/Region", "Create Date", "Last Modified Date",
}

var lifecycleStages = []string{"subscriber", "lead", "customer", "customer", "opportunity"}

func (g *generator) company(f *firm) {
	g.companyID++
	mod := g.ppl.timeBetween(f.since, g.o.End)
	g.w.companies.Write([]string{
		itoa(9000000000 + g.companyID), f.name, f.domain, g.ppl.phoneAs(f.phone, len(f.city.area)),
		f.city.name, f.zip, "Germany", f.since.Format(hubspotTime), mod.Format(hubspotTime),
	})
}

// crm writes the person's HubSpot contact, and sometimes a duplicate.
func (g *generator) crm(p *person) {
	if !p.inCRM {
		return
	}
	r := g.ppl
	copies := 1
	if r.chance(g.o.Duplicate) {
		copies = 2
	}
	for c := 0; c < copies; c++ {
		g.contactID++
		id := itoa(100 + g.contactID*3) // HubSpot ids grow, with gaps
		email := p.email
		if p.oldEmail != "" {
			email = p.oldEmail // the CRM knew the person first
		}
		if p.roleMailbox && p.firm != nil {
			email = "info@" + p.firm.domain
		}
		phone, mobile := "", ""
		nsn, area := phoneOf(p, r.chance(0.5))
		switch {
		case p.bridge:
			// The bridge needs the CRM to have the number the helpdesk has.
			nsn, area = phoneOf(p, false)
			phone = r.phoneAs(nsn, area)
		case p.oldEmail != "":
			// Changed address, no bridge: nothing else joins the records.
		case nsn != "" && r.chance(0.6):
			phone = r.phoneAs(nsn, area)
		case p.mobile != "" && r.chance(0.3):
			mobile = r.phoneAs(p.mobile, 3)
		}
		if c == 1 && r.chance(0.5) {
			email = "" // the duplicate came in through a call: a phone, no address
			if phone == "" && nsn != "" {
				phone = r.phoneAs(nsn, area)
			}
		}
		first, last := r.namesAs(p)
		company, street := "", ""
		if p.firm != nil {
			company = p.firm.name
		}
		if r.chance(0.5) {
			street = p.street
		}
		created := r.timeBetween(p.since, p.since.AddDate(0, 3, 0))
		modified := r.timeBetween(created, g.o.End)
		g.w.contacts.Write([]string{
			id, first, last, r.emailAs(email), phone, mobile, company, street, p.city.name, p.zip,
			"Germany", r.pick(lifecycleStages), created.Format(hubspotTime), modified.Format(hubspotTime),
		})
		g.truth(SourceCRM, "contacts", id, p)
	}
}

// Shopify's customers_export.csv and orders_export.csv column layouts.
var customerColumns = []string{
	"Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
	"Default Address Company", "Default Address Address1", "Default Address Address2",
	"Default Address City", "Default Address Province Code", "Default Address Country Code",
	"Default Address Zip", "Default Address Phone", "Phone", "Accepts SMS Marketing",
	"Total Spent", "Total Orders", "Note", "Tax Exempt", "Tags",
}

var orderColumns = []string{
	"Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
	"Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
	"Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
	"Lineitem price", "Lineitem sku", "Billing Name", "Billing Street", "Billing City", "Billing Zip",
	"Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
	"Shipping City", "Shipping Zip", "Shipping Country", "Notes", "Cancelled at", "Payment Method",
	"Refunded Amount", "Id", "Phone",
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// money writes cents as Shopify does: 12.50.
func money(cents int) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// shop writes the person's Shopify customer (if any) and orders; people
// who are not customers sometimes order as guests.
func (g *generator) shop(p *person) {
	r := g.ppl
	n := 0
	switch {
	case p.inShop:
		n = r.r.IntN(5)
	case r.chance(0.08):
		n = 1 // a guest checkout
	}
	marketing := r.chance(0.4)
	spent := 0
	for i := 0; i < n; i++ {
		spent += g.order(p, marketing)
	}
	if !p.inShop {
		return
	}
	g.customerID++
	id := itoa(7100000000000 + g.customerID*7)
	first, last := r.namesAs(p)
	phone, addrPhone := "", ""
	if nsn, area := phoneOf(p, false); nsn != "" && p.oldEmail == "" && r.chance(0.5) {
		phone = "+49" + nsn // Shopify keeps a customer's phone in E.164
		if r.chance(0.5) {
			addrPhone = r.phoneAs(nsn, area)
		}
	}
	company := ""
	if p.firm != nil && r.chance(0.5) {
		company = p.firm.name
	}
	g.w.customers.Write([]string{
		id, first, last, r.emailAs(p.email), yesNo(marketing), company, p.street, "", p.city.name,
		p.city.state, "DE", p.zip, addrPhone, phone, yesNo(phone != "" && r.chance(0.2)),
		money(spent), strconv.Itoa(n), "", "no", "",
	})
	g.truth(SourceShop, "customers", id, p)
}

// order writes one Shopify order and returns its total in cents.
func (g *generator) order(p *person, marketing bool) int {
	r := g.ppl
	g.orderID++
	g.orderNo++
	id := itoa(5600000000000 + g.orderID*11)
	prod := products[r.r.IntN(len(products))]
	qty := 1 + r.r.IntN(3)
	subtotal := qty * prod.cents
	shipping := 490
	if subtotal >= 5000 {
		shipping = 0
	}
	total := subtotal + shipping
	taxes := total * 19 / 119
	created := berlin(r.timeBetween(p.since, g.o.End))
	paid, fulfilled, cancelled := created.Add(time.Duration(1+r.r.IntN(30))*time.Minute).Format(shopifyTime), "", ""
	financial, fulfilment, refunded := "paid", "fulfilled", "0.00"
	switch x := r.r.Float64(); {
	case x < 0.03:
		financial, fulfilment, refunded = "refunded", "unfulfilled", money(total)
		cancelled = created.Add(time.Duration(1+r.r.IntN(48)) * time.Hour).Format(shopifyTime)
	case x < 0.08:
		financial, fulfilment, paid = "pending", "unfulfilled", ""
	default:
		fulfilled = created.Add(time.Duration(12+r.r.IntN(72)) * time.Hour).Format(shopifyTime)
	}
	first, last := r.namesAs(p)
	billPhone := ""
	if nsn, area := phoneOf(p, false); nsn != "" && p.oldEmail == "" && r.chance(0.4) {
		billPhone = r.phoneAs(nsn, area)
	}
	name := first + " " + last
	g.w.orders.Write([]string{
		"#" + strconv.FormatInt(1000+g.orderNo, 10), r.emailAs(p.email), financial, paid, fulfilment, fulfilled,
		yesNo(marketing), "EUR", money(subtotal), money(shipping), money(taxes), money(total), "", "0.00",
		"DHL Paket", created.Format(shopifyTime), strconv.Itoa(qty), prod.name, money(prod.cents), prod.sku,
		name, p.street, p.city.name, p.zip, p.city.state, "DE", billPhone, name, p.street, p.city.name, p.zip,
		"DE", "", cancelled, r.pick([]string{"PayPal", "Kreditkarte", "Rechnung", "Klarna"}), refunded, id, "",
	})
	g.truth(SourceShop, "orders", id, p)
	if financial == "refunded" {
		return 0
	}
	return total
}

// Zendesk Support API objects, as the users and tickets endpoints (and
// the incremental exports) return them.
type zendeskUser struct {
	ID                int64          `json:"id"`
	URL               string         `json:"url"`
	Name              string         `json:"name"`
	Email             *string        `json:"email"`
	Phone             *string        `json:"phone"`
	SharedPhoneNumber *bool          `json:"shared_phone_number"`
	CreatedAt         string         `json:"created_at"`
	UpdatedAt         string         `json:"updated_at"`
	TimeZone          string         `json:"time_zone"`
	IanaTimeZone      string         `json:"iana_time_zone"`
	Locale            string         `json:"locale"`
	Role              string         `json:"role"`
	Verified          bool           `json:"verified"`
	Active            bool           `json:"active"`
	OrganizationID    *int64         `json:"organization_id"`
	ExternalID        *string        `json:"external_id"`
	Tags              []string       `json:"tags"`
	UserFields        map[string]any `json:"user_fields"`
}

type zendeskTicket struct {
	ID                 int64          `json:"id"`
	URL                string         `json:"url"`
	ExternalID         *string        `json:"external_id"`
	Type               string         `json:"type"`
	Subject            string         `json:"subject"`
	RawSubject         string         `json:"raw_subject"`
	Description        string         `json:"description"`
	Priority           string         `json:"priority"`
	Status             string         `json:"status"`
	Recipient          string         `json:"recipient"`
	RequesterID        int64          `json:"requester_id"`
	SubmitterID        int64          `json:"submitter_id"`
	AssigneeID         int64          `json:"assignee_id"`
	OrganizationID     *int64         `json:"organization_id"`
	Tags               []string       `json:"tags"`
	Via                zendeskVia     `json:"via"`
	SatisfactionRating map[string]any `json:"satisfaction_rating"`
	CreatedAt          string         `json:"created_at"`
	UpdatedAt          string         `json:"updated_at"`
}

type zendeskVia struct {
	Channel string         `json:"channel"`
	Source  map[string]any `json:"source"`
}

const zendeskBase = "https://lindenblatt.zendesk.com/api/v2/"

func (g *generator) jsonLine(w interface{ Write([]byte) (int, error) }, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the types above always marshal
	}
	w.Write(append(b, '\n'))
}

// helpdesk writes the person's Zendesk users and their tickets. A
// duplicate user is one created from a phone call: a number, no address.
func (g *generator) helpdesk(p *person) {
	r := g.ppl
	if !p.inHelpdesk && !p.bridge {
		return
	}
	copies := 1
	if r.chance(g.o.Duplicate) && (p.mobile != "" || p.landline != "") {
		copies = 2
	}
	for c := 0; c < copies; c++ {
		g.userID++
		id := 372000000000 + g.userID*13
		u := zendeskUser{
			ID: id, URL: zendeskBase + "users/" + itoa(id) + ".json",
			TimeZone: "Berlin", IanaTimeZone: "Europe/Berlin", Locale: "de", Role: "end-user",
			Active: true, Tags: []string{}, UserFields: map[string]any{},
		}
		first, last := r.namesAs(p)
		u.Name = first + " " + last
		nsn, area := phoneOf(p, r.chance(0.5))
		if p.bridge {
			nsn, area = phoneOf(p, false) // the number the CRM has
		}
		withPhone := nsn != "" && (p.bridge || c == 1 || (p.oldEmail == "" && r.chance(0.35)))
		if withPhone {
			ph := r.phoneAs(nsn, area)
			u.Phone = &ph
			shared := nsn == p.landline && p.sharedPhone
			u.SharedPhoneNumber = &shared
		}
		if c == 0 {
			e := r.emailAs(p.email)
			u.Email = &e
			u.Verified = r.chance(0.8)
		}
		created := r.timeBetween(p.since, g.o.End)
		updated := r.timeBetween(created, g.o.End)
		u.CreatedAt, u.UpdatedAt = iso(created), iso(updated)
		g.jsonLine(g.w.users, u)
		g.truth(SourceHelpdesk, "users", itoa(id), p)
		if c == 0 {
			for n := 1 + r.r.IntN(3); n > 0; n-- {
				g.ticket(p, id, created)
			}
		}
	}
}

var zendeskStatuses = []string{"new", "open", "pending", "hold", "solved", "solved", "closed", "closed", "closed"}

func (g *generator) ticket(p *person, requester int64, after time.Time) {
	r := g.ppl
	g.ticketID++
	created := r.timeBetween(after, g.o.End)
	subject := r.pick(ticketSubjects)
	t := zendeskTicket{
		ID: g.ticketID, URL: zendeskBase + "tickets/" + itoa(g.ticketID) + ".json",
		Type: r.pick([]string{"question", "incident", "problem", "task"}), Subject: subject, RawSubject: subject,
		Description: "Guten Tag, " + subject + " Viele Grüße, " + p.first,
		Priority:    r.pick([]string{"low", "normal", "normal", "high", "urgent"}),
		Status:      r.pick(zendeskStatuses), Recipient: "service@" + g.o.ShopDomain,
		RequesterID: requester, SubmitterID: requester, AssigneeID: 372000000001,
		Tags: []string{}, CreatedAt: iso(created), UpdatedAt: iso(r.timeBetween(created, g.o.End)),
		Via:                zendeskVia{Channel: r.pick([]string{"email", "email", "web", "phone"}), Source: map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}},
		SatisfactionRating: map[string]any{"score": r.pick([]string{"unoffered", "offered", "good", "bad"})},
	}
	g.jsonLine(g.w.tickets, t)
	g.truth(SourceHelpdesk, "tickets", itoa(g.ticketID), p)
}

// mail writes threads between the person and the shop's service mailbox:
// the person's message and often the shop's answer. Names with umlauts
// travel as RFC 2047 encoded words.
func (g *generator) mail(p *person) {
	r := g.ppl
	if !p.inMail {
		return
	}
	for n := 1 + r.r.IntN(3); n > 0; n-- {
		sent := berlin(r.timeBetween(p.since, g.o.End))
		subject := r.pick(mailSubjects)
		first, last := r.namesAs(p)
		enc := mime.QEncoding
		if r.chance(0.3) {
			enc = mime.BEncoding
		}
		who := enc.Encode("UTF-8", first+" "+last) + " <" + p.email + ">"
		shop := "Lindenblatt Kaffee Kundenservice <service@" + g.o.ShopDomain + ">"
		in := g.message(p, who, shop, subject, sent, "", "Hallo,\n\nich habe eine Frage zu meiner Bestellung.\n\nViele Grüße\n"+first+"\n")
		if r.chance(0.6) {
			reply := sent.Add(time.Duration(30+r.r.IntN(3000)) * time.Minute)
			g.message(p, shop, who, "Re: "+subject, berlin(reply), in, "Guten Tag "+first+" "+last+",\n\nvielen Dank für Ihre Nachricht.\n\nIhr Lindenblatt-Team\n")
		}
	}
}

// message writes one message and returns its Message-ID.
func (g *generator) message(p *person, from, to, subject string, at time.Time, inReplyTo, body string) string {
	g.messageNo++
	id := fmt.Sprintf("%d.%08x@mail.%s", g.messageNo, g.ppl.r.Uint32(), g.o.ShopDomain)
	b := g.w.mbox
	envelope := from[strings.LastIndexByte(from, '<')+1 : len(from)-1]
	fmt.Fprintf(b, "From %s %s\n", envelope, at.UTC().Format("Mon Jan _2 15:04:05 2006"))
	fmt.Fprintf(b, "Return-Path: <%s>\nMessage-ID: <%s>\nDate: %s\nFrom: %s\nTo: %s\nSubject: %s\n",
		envelope, id, at.Format(mailTime), from, to, mime.QEncoding.Encode("UTF-8", subject))
	if inReplyTo != "" {
		fmt.Fprintf(b, "In-Reply-To: <%s>\nReferences: <%s>\n", inReplyTo, inReplyTo)
	}
	fmt.Fprintf(b, "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n%s\n", body)
	g.truth(SourceMail, "messages", "mbox:"+FileMbox+":"+id, p)
	return id
}
