package mapping

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/connector"
)

// The silo benchmarks map records shaped like those of `desilo gen`: CSV
// rows as the files connector emits them (flat objects of strings, empty
// cells null), Zendesk users and tickets as JSON Lines, and mail messages
// from the imap connector, through the mappings its desilo.yaml uses.

// silo is one stream's sample records and mapping.
type silo struct {
	name    string
	stream  connector.Stream
	mapping connector.Mapping
	records [][]byte
}

// csvRecords encodes CSV rows as the files connector does: every value a
// JSON string, an empty cell null, members in column order.
func csvRecords(text string) [][]byte {
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		panic(err)
	}
	var out [][]byte
	for _, row := range rows[1:] {
		b := []byte{'{'}
		for i, cell := range row {
			if i > 0 {
				b = append(b, ',')
			}
			k, _ := json.Marshal(rows[0][i])
			b = append(append(b, k...), ':')
			if cell == "" {
				b = append(b, "null"...)
				continue
			}
			v, _ := json.Marshal(cell)
			b = append(b, v...)
		}
		out = append(out, append(b, '}'))
	}
	return out
}

func jsonLines(text string) [][]byte {
	var out [][]byte
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		out = append(out, []byte(l))
	}
	return out
}

func layoutP(path, layout string) connector.Expr { return connector.Expr{Path: path, Layout: layout} }

const shopLayout = "2006-01-02 15:04:05 -0700"

var silos = []silo{
	{
		name:   "HubSpotCSV",
		stream: connector.Stream{Name: "contacts", PrimaryKey: []string{"Record ID"}},
		mapping: connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
			"email":                  connector.P("Email"),
			"phone":                  {Coalesce: []connector.Expr{connector.P("Phone Number"), connector.P("Mobile Phone Number")}},
			"first_name":             connector.P("First Name"),
			"last_name":              connector.P("Last Name"),
			"company":                connector.P("Company Name"),
			"street":                 connector.P("Street Address"),
			"city":                   connector.P("City"),
			"postal_code":            connector.P("Postal Code"),
			"country":                connector.P("Country/Region"),
			"ids.hubspot_contact_id": connector.P("Record ID"),
			"created_at":             layoutP("Create Date", "2006-01-02 15:04"),
			"updated_at":             layoutP("Last Modified Date", "2006-01-02 15:04"),
		}},
		records: csvRecords(`Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Company Name,Street Address,City,Postal Code,Country/Region,Lifecycle Stage,Create Date,Last Modified Date
103,Klaus,Krämer,klaus.kraemer81@elbpost.de,,,,,Nürnberg,90490,Germany,customer,2019-12-29 02:10,2021-05-05 03:02
109,Nadine,Herrmann,nadine.herrmann@briefwerk.de,,,Winter Catering GmbH,Goethestraße 113,Bremen,28715,Germany,customer,2023-12-22 20:38,2024-09-09 23:02
112,Tohmas,Braun,thomas_braun@funkfach.de,0176 80748454,,,,Kiel,24153,Germany,opportunity,2020-03-25 09:43,2021-10-20 13:48
127,Christina,Schulz," schulz.christina@rheinmail.de ",,+49 170 8286871,Winter Catering GmbH,Am Markt 101,Kiel,24129,Germany,customer,2020-10-13 04:19,2024-04-20 08:25
`),
	},
	{
		name:   "ShopifyCustomersCSV",
		stream: connector.Stream{Name: "customers", PrimaryKey: []string{"Customer ID"}},
		mapping: connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
			"email":                   connector.P("Email"),
			"phone":                   {Coalesce: []connector.Expr{connector.P("Phone"), connector.P("Default Address Phone")}},
			"first_name":              connector.P("First Name"),
			"last_name":               connector.P("Last Name"),
			"company":                 connector.P("Default Address Company"),
			"street":                  {Concat: []connector.Expr{connector.P("Default Address Address1"), connector.P("Default Address Address2")}, Sep: ", "},
			"city":                    connector.P("Default Address City"),
			"region":                  connector.P("Default Address Province Code"),
			"postal_code":             connector.P("Default Address Zip"),
			"country":                 connector.P("Default Address Country Code"),
			"consent_email":           {Path: "Accepts Email Marketing", Type: "boolean"},
			"consent_sms":             {Path: "Accepts SMS Marketing", Type: "boolean"},
			"ids.shopify_customer_id": connector.P("Customer ID"),
		}},
		records: csvRecords(`Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,Tags
7100000000007,Klaus,Krämer,klaus.kraemer81@elbpost.de,no,,Am Markt 91,,Nürnberg,BY,DE,90490,0170 3355490,+491703355490,no,103.50,1,,no,
7100000000014,Nadine,Herrmann,nadine_herrmann@webkiste.de,no,Winter Catering GmbH,Goethestraße 113,,Bremen,HB,DE,28715,,,no,359.40,2,,no,
7100000000021,Sören,Sommer," soeren.sommer54@rheinmail.de ",yes,,Wiesenweg 89,Hinterhaus,Kiel,SH,DE,24147,,+494318711663,no,37.40,2,,no,
7100000000028,Thomas,Zimmermann,thomas.zimmermann73@rheinmail.de,no,,Dorfstraße 38,,Essen,NW,DE,45224,,,yes,318.20,3,,no,
`),
	},
	{
		name:   "ShopifyOrdersCSV",
		stream: connector.Stream{Name: "orders", PrimaryKey: []string{"Id"}},
		mapping: connector.Mapping{Entity: "order", Fields: map[string]connector.Expr{
			"order_number":     connector.P("Name"),
			"email":            connector.P("Email"),
			"phone":            {Coalesce: []connector.Expr{connector.P("Phone"), connector.P("Billing Phone")}},
			"financial_status": connector.P("Financial Status"),
			"status":           connector.P("Fulfillment Status"),
			"ordered_at":       layoutP("Created at", shopLayout),
			"cancelled_at":     layoutP("Cancelled at", shopLayout),
			"total":            connector.P("Total"),
			"currency":         connector.P("Currency"),
			"items_count":      connector.P("Lineitem quantity"),
			"created_at":       layoutP("Created at", shopLayout),
			"updated_at": {Coalesce: []connector.Expr{
				{Path: "Cancelled at", Type: "timestamp", Layout: shopLayout},
				{Path: "Created at", Type: "timestamp", Layout: shopLayout},
			}},
		}},
		records: csvRecords(`Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Billing Street,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping City,Shipping Zip,Shipping Country,Notes,Cancelled at,Payment Method,Refunded Amount,Id,Phone
#1001,klaus.kraemer81@elbpost.de,paid,2024-02-06 16:31:45 +0100,fulfilled,2024-02-09 02:05:45 +0100,no,EUR,103.50,0.00,16.52,103.50,,0.00,DHL Paket,2024-02-06 16:05:45 +0100,3,Geschenkbox Röstung,34.50,GB-777,Klaus Krämer,Am Markt 91,Nürnberg,90490,BY,DE,,Klaus Krämer,Am Markt 91,Nürnberg,90490,DE,,,Klarna,0.00,5600000000011,
#1002,nadine_herrmann@webkiste.de,pending,,unfulfilled,,no,EUR,179.70,0.00,28.69,179.70,,0.00,DHL Paket,2024-06-22 20:28:09 +0200,3,Kaffeemühle Keramik,59.90,KM-330,Nadine Herrmann,Goethestraße 113,Bremen,28715,HB,DE,,Nadine Herrmann,Goethestraße 113,Bremen,28715,DE,,,PayPal,0.00,5600000000022,
#1004,soeren.sommer54@rheinmail.de,paid,2025-02-26 23:47:58 +0100,fulfilled,2025-03-01 02:32:58 +0100,no,EUR,6.90,4.90,1.88,11.80,,0.00,DHL Paket,2025-02-26 23:32:58 +0100,1,Teeprobe Schwarztee,6.90,TEE-010,Sören Sommer,Wiesenweg 89,Kiel,24147,SH,DE,,Sören Sommer,Wiesenweg 89,Kiel,24147,DE,,,Kreditkarte,0.00,5600000000044,
#1024,elke_lorenz@briefwerk.de,refunded,2025-06-10 12:38:38 +0200,unfulfilled,,yes,EUR,87.00,0.00,13.89,87.00,,0.00,DHL Paket,2025-06-10 12:36:38 +0200,3,Handfilter Porzellan,29.00,HF-101,Elke Lorenz,Goethestraße 49,Freiburg im Breisgau,79102,BW,DE,0151/46782028,Elke Lorenz,Goethestraße 49,Freiburg im Breisgau,79102,DE,,2025-06-10 16:36:38 +0200,PayPal,87.00,5600000000264,
`),
	},
	{
		name:   "ZendeskUsers",
		stream: connector.Stream{Name: "users", PrimaryKey: []string{"id"}},
		mapping: connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
			"email":               connector.P("email"),
			"phone":               connector.P("phone"),
			"full_name":           connector.P("name"),
			"ids.zendesk_user_id": connector.P("id"),
			"created_at":          connector.P("created_at"),
			"updated_at":          connector.P("updated_at"),
		}},
		records: jsonLines(`
{"id":372000000013,"url":"https://lindenblatt.zendesk.com/api/v2/users/372000000013.json","name":"Thomas Braun","email":"thomas_braun@funkfach.de","phone":null,"shared_phone_number":null,"created_at":"2023-11-03T18:43:52Z","updated_at":"2025-06-08T19:09:30Z","time_zone":"Berlin","iana_time_zone":"Europe/Berlin","locale":"de","role":"end-user","verified":false,"active":true,"organization_id":null,"external_id":null,"tags":[],"user_fields":{}}
{"id":372000000026,"url":"https://lindenblatt.zendesk.com/api/v2/users/372000000026.json","name":"Wolfgang Schmidt","email":"wolfgang.schmidt85@elbpost.de","phone":"03076884177","shared_phone_number":false,"created_at":"2024-05-10T03:50:04Z","updated_at":"2024-07-09T20:05:59Z","time_zone":"Berlin","iana_time_zone":"Europe/Berlin","locale":"de","role":"end-user","verified":true,"active":true,"organization_id":null,"external_id":null,"tags":[],"user_fields":{}}
{"id":372000000039,"url":"https://lindenblatt.zendesk.com/api/v2/users/372000000039.json","name":"Christina Schulz","email":"schulz.christina@rheinmail.de","phone":null,"shared_phone_number":null,"created_at":"2022-07-17T12:45:03Z","updated_at":"2023-07-30T00:27:27Z","time_zone":"Berlin","iana_time_zone":"Europe/Berlin","locale":"de","role":"end-user","verified":true,"active":true,"organization_id":null,"external_id":null,"tags":[],"user_fields":{}}
`),
	},
	{
		name:   "ZendeskTickets",
		stream: connector.Stream{Name: "tickets", PrimaryKey: []string{"id"}},
		mapping: connector.Mapping{Entity: "ticket", Fields: map[string]connector.Expr{
			"ticket_number": connector.P("id"),
			"customer_ref":  connector.P("requester_id"),
			"subject":       connector.P("subject"),
			"status":        {Path: "status", Values: map[string]string{"new": "open", "hold": "pending"}},
			"priority":      connector.P("priority"),
			"channel":       connector.P("via.channel"),
			"satisfaction":  connector.P("satisfaction_rating.score"),
			"created_at":    connector.P("created_at"),
			"updated_at":    connector.P("updated_at"),
		}},
		records: jsonLines(`
{"id":1,"url":"https://lindenblatt.zendesk.com/api/v2/tickets/1.json","external_id":null,"type":"problem","subject":"Lieferzeit nach Österreich","raw_subject":"Lieferzeit nach Österreich","description":"Guten Tag, Lieferzeit nach Österreich Viele Grüße, Thomas","priority":"low","status":"open","recipient":"service@lindenblatt-kaffee.de","requester_id":372000000013,"submitter_id":372000000013,"assignee_id":372000000001,"organization_id":null,"tags":[],"via":{"channel":"email","source":{"from":{},"rel":null,"to":{}}},"satisfaction_rating":{"score":"offered"},"created_at":"2023-12-15T06:30:59Z","updated_at":"2025-06-11T14:03:02Z"}
{"id":4,"url":"https://lindenblatt.zendesk.com/api/v2/tickets/4.json","external_id":null,"type":"question","subject":"Frage zur Rechnung","raw_subject":"Frage zur Rechnung","description":"Guten Tag, Frage zur Rechnung Viele Grüße, Wolfgang","priority":"high","status":"closed","recipient":"service@lindenblatt-kaffee.de","requester_id":372000000026,"submitter_id":372000000026,"assignee_id":372000000001,"organization_id":null,"tags":[],"via":{"channel":"email","source":{"from":{},"rel":null,"to":{}}},"satisfaction_rating":{"score":"offered"},"created_at":"2024-05-15T21:39:39Z","updated_at":"2025-03-14T20:19:19Z"}
{"id":6,"url":"https://lindenblatt.zendesk.com/api/v2/tickets/6.json","external_id":null,"type":"problem","subject":"Falscher Artikel geliefert","raw_subject":"Falscher Artikel geliefert","description":"Guten Tag, Falscher Artikel geliefert Viele Grüße, Christina","priority":"normal","status":"new","recipient":"service@lindenblatt-kaffee.de","requester_id":372000000039,"submitter_id":372000000039,"assignee_id":372000000001,"organization_id":null,"tags":[],"via":{"channel":"web","source":{"from":{},"rel":null,"to":{}}},"satisfaction_rating":{"score":"unoffered"},"created_at":"2023-08-08T15:12:38Z","updated_at":"2024-10-10T07:00:06Z"}
`),
	},
	{
		// The imap connector's default mapping (connectors/imap).
		name:   "MailMessages",
		stream: connector.Stream{Name: "messages", PrimaryKey: []string{"id"}},
		mapping: connector.Mapping{Entity: "message", Fields: map[string]connector.Expr{
			"message_id":  connector.P("message_id"),
			"email":       connector.P("counterpart"),
			"direction":   connector.P("direction"),
			"from":        connector.P("from.0.address"),
			"to":          connector.P("to[].address"),
			"cc":          connector.P("cc[].address"),
			"subject":     connector.P("subject"),
			"sent_at":     {Path: "date", Type: "timestamp"},
			"thread_id":   connector.P("thread_id"),
			"in_reply_to": connector.P("in_reply_to"),
			"size":        {Path: "size", Type: "integer"},
			"channel":     {Const: "email"},
			"created_at":  {Path: "date", Type: "timestamp"},
		}},
		records: jsonLines(`
{"id":"mbox:mail/service.mbox:1.23a16d5d@mail.lindenblatt-kaffee.de","message_id":"1.23a16d5d@mail.lindenblatt-kaffee.de","thread_id":"1.23a16d5d@mail.lindenblatt-kaffee.de","from":[{"name":"Sophie Weber","address":"sophie.weber@netzbrief.de"}],"to":[{"name":"Lindenblatt Kaffee Kundenservice","address":"service@lindenblatt-kaffee.de"}],"cc":null,"bcc":null,"date":"2024-04-15T08:46:14+02:00","subject":"Anfrage Großbestellung","size":412,"flags":[],"mailbox":"","direction":"in","counterpart":"sophie.weber@netzbrief.de","file":"mail/service.mbox"}
{"id":"mbox:mail/service.mbox:2.6daa3d94@mail.lindenblatt-kaffee.de","message_id":"2.6daa3d94@mail.lindenblatt-kaffee.de","in_reply_to":"1.23a16d5d@mail.lindenblatt-kaffee.de","references":["1.23a16d5d@mail.lindenblatt-kaffee.de"],"thread_id":"1.23a16d5d@mail.lindenblatt-kaffee.de","from":[{"name":"Lindenblatt Kaffee Kundenservice","address":"service@lindenblatt-kaffee.de"}],"to":[{"name":"Sophie Weber","address":"sophie.weber@netzbrief.de"}],"cc":[{"address":"lager@lindenblatt-kaffee.de"}],"bcc":null,"date":"2025-06-12T12:29:18+02:00","subject":"Re: Newsletter abbestellen","size":538,"flags":[],"mailbox":"","direction":"out","counterpart":"sophie.weber@netzbrief.de","file":"mail/service.mbox"}
`),
	},
}

// BenchmarkMapSilos maps each silo's sample records in turn; ns/op is per
// record. cpu-ns/op is the process's CPU time per record (GC included),
// steadier than ns/op on a shared machine.
func BenchmarkMapSilos(b *testing.B) {
	for _, s := range silos {
		b.Run(s.name, func(b *testing.B) {
			p, err := Compile(s.stream, s.mapping)
			if err != nil {
				b.Fatal(err)
			}
			row := make([]any, len(p.Table().Columns))
			var size int
			for _, r := range s.records {
				size += len(r)
			}
			b.SetBytes(int64(size / len(s.records)))
			b.ReportAllocs()
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				rec := connector.Record{Stream: s.stream.Name, Data: s.records[i%len(s.records)]}
				if err := p.Map("src", rec, row); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if cpu := cpuTime() - cpu; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// TestSilos makes sure every benchmark record maps, so the benchmarks
// measure the successful path.
func TestSilos(t *testing.T) {
	for _, s := range silos {
		p, err := Compile(s.stream, s.mapping)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for i, r := range s.records {
			row := make([]any, len(p.Table().Columns))
			if err := p.Map("src", connector.Record{Data: r}, row); err != nil {
				t.Errorf("%s record %d: %v", s.name, i, err)
			}
		}
	}
}
