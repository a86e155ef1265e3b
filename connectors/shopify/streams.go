package shopify

import (
	"encoding/json"
	"strconv"

	"github.com/desilo/desilo/plugins/connector"
)

// streamDef is one stream: the GraphQL query that pages through it and
// how its records and default mapping look.
type streamDef struct {
	name        string
	description string
	// root is the query's root connection field (customers, orders).
	root string
	// nodeFields is the selection of one node.
	nodeFields string
	pageSize   int
	schema     string
	mapping    *connector.Mapping
}

const money = `shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }`

const address = `address1 address2 city zip province provinceCode country countryCodeV2 company phone`

// refundsPerOrder is how many refunds of an order the refunds stream
// reads: Order.refunds is a list, not a connection, so it cannot be paged.
const refundsPerOrder = 10

// Page sizes keep each query's requested cost well under Shopify's
// single-query maximum of 1,000 points (a connection costs about its
// page size times the objects in one node).
var streamDefs = []streamDef{
	{
		name:        "customers",
		description: "Customers with their default and other addresses and email/SMS marketing consent.",
		root:        "customers",
		pageSize:    50,
		nodeFields: `id firstName lastName createdAt updatedAt state tags numberOfOrders
			amountSpent { amount currencyCode }
			defaultEmailAddress { emailAddress marketingState marketingOptInLevel marketingUpdatedAt }
			defaultPhoneNumber { phoneNumber marketingState marketingOptInLevel marketingUpdatedAt }
			defaultAddress { id ` + address + ` }
			addressesV2(first: 5) { nodes { id ` + address + ` } }`,
		schema: `{
			"type": "object",
			"required": ["id", "updatedAt"],
			"properties": {
				"id": {"type": "string", "description": "Global id, gid://shopify/Customer/N; orders' customer.id refers to it."},
				"firstName": {"type": ["string", "null"]},
				"lastName": {"type": ["string", "null"]},
				"createdAt": {"type": "string", "format": "date-time"},
				"updatedAt": {"type": "string", "format": "date-time"},
				"defaultEmailAddress": {"type": ["object", "null"]},
				"defaultPhoneNumber": {"type": ["object", "null"]},
				"defaultAddress": {"type": ["object", "null"]},
				"addressesV2": {"type": "object"},
				"consent_email": {"type": ["boolean", "null"], "description": "Derived: email marketing state is SUBSCRIBED; null without an email address."},
				"consent_sms": {"type": ["boolean", "null"], "description": "Derived: SMS marketing state is SUBSCRIBED; null without a phone number."}
			}
		}`,
		mapping: &connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
			"email":                   connector.P("defaultEmailAddress.emailAddress"),
			"phone":                   connector.P("defaultPhoneNumber.phoneNumber"),
			"first_name":              connector.P("firstName"),
			"last_name":               connector.P("lastName"),
			"street":                  {Concat: []connector.Expr{connector.P("defaultAddress.address1"), connector.P("defaultAddress.address2")}, Sep: ", "},
			"city":                    connector.P("defaultAddress.city"),
			"postal_code":             connector.P("defaultAddress.zip"),
			"region":                  connector.P("defaultAddress.provinceCode"),
			"country":                 connector.P("defaultAddress.countryCodeV2"),
			"consent_email":           {Path: "consent_email", Type: "boolean"},
			"consent_sms":             {Path: "consent_sms", Type: "boolean"},
			"ids.shopify_customer_id": connector.P("id"),
			"created_at":              {Path: "createdAt", Type: "timestamp"},
			"updated_at":              {Path: "updatedAt", Type: "timestamp"},
		}},
	},
	{
		name:        "orders",
		description: "Orders with totals in shop and presentment currency, line items (first 25) and the customer reference.",
		root:        "orders",
		pageSize:    10,
		nodeFields: `id name email phone createdAt processedAt updatedAt cancelledAt cancelReason closedAt
			displayFinancialStatus displayFulfillmentStatus currencyCode presentmentCurrencyCode
			subtotalLineItemsQuantity test
			totalPriceSet { ` + money + ` }
			subtotalPriceSet { ` + money + ` }
			totalTaxSet { ` + money + ` }
			totalRefundedSet { ` + money + ` }
			customer { id }
			lineItems(first: 25) { pageInfo { hasNextPage } nodes { id title sku quantity variant { id } originalUnitPriceSet { ` + money + ` } } }`,
		schema: `{
			"type": "object",
			"required": ["id", "name", "updatedAt"],
			"properties": {
				"id": {"type": "string"},
				"name": {"type": "string", "description": "The order number shown to the customer, e.g. #1001."},
				"email": {"type": ["string", "null"]},
				"createdAt": {"type": "string", "format": "date-time"},
				"processedAt": {"type": "string", "format": "date-time"},
				"updatedAt": {"type": "string", "format": "date-time"},
				"cancelledAt": {"type": ["string", "null"], "format": "date-time"},
				"displayFinancialStatus": {"type": ["string", "null"]},
				"displayFulfillmentStatus": {"type": "string"},
				"subtotalLineItemsQuantity": {"type": "integer"},
				"totalPriceSet": {"type": "object", "description": "Amounts are decimal strings, never floats."},
				"customer": {"type": ["object", "null"]},
				"lineItems": {"type": "object", "description": "The first 25 line items; pageInfo.hasNextPage says whether there are more."}
			}
		}`,
		mapping: &connector.Mapping{Entity: "order", Fields: map[string]connector.Expr{
			"order_number":     connector.P("name"),
			"customer_ref":     connector.P("customer.id"),
			"email":            connector.P("email"),
			"phone":            connector.P("phone"),
			"total":            {Path: "totalPriceSet.shopMoney.amount", Type: "number"},
			"currency":         connector.P("totalPriceSet.shopMoney.currencyCode"),
			"status":           connector.P("displayFulfillmentStatus"),
			"financial_status": connector.P("displayFinancialStatus"),
			"ordered_at":       {Coalesce: []connector.Expr{{Path: "processedAt", Type: "timestamp"}, {Path: "createdAt", Type: "timestamp"}}},
			"items_count":      {Path: "subtotalLineItemsQuantity", Type: "integer"},
			"cancelled_at":     {Path: "cancelledAt", Type: "timestamp"},
			"created_at":       {Path: "createdAt", Type: "timestamp"},
			"updated_at":       {Path: "updatedAt", Type: "timestamp"},
		}},
	},
	{
		name:        "refunds",
		description: "Refunds of orders, each with its order's id, name, email and customer. Read through the orders updated since the last run.",
		root:        "orders",
		pageSize:    25,
		nodeFields: `id name email updatedAt customer { id }
			refunds(first: ` + strconv.Itoa(refundsPerOrder) + `) { id createdAt note totalRefundedSet { ` + money + ` } }`,
		schema: `{
			"type": "object",
			"required": ["id", "createdAt", "order"],
			"properties": {
				"id": {"type": "string"},
				"createdAt": {"type": "string", "format": "date-time"},
				"note": {"type": ["string", "null"]},
				"totalRefundedSet": {"type": "object"},
				"order": {"type": "object", "description": "The refunded order: id, name, email, updatedAt, customer {id}."}
			}
		}`,
		mapping: &connector.Mapping{Entity: "event", Fields: map[string]connector.Expr{
			"type":         {Const: "refund"},
			"amount":       {Path: "totalRefundedSet.shopMoney.amount", Type: "number"},
			"currency":     connector.P("totalRefundedSet.shopMoney.currencyCode"),
			"occurred_at":  {Path: "createdAt", Type: "timestamp"},
			"customer_ref": connector.P("order.customer.id"),
			"order_ref":    connector.P("order.id"),
			"email":        connector.P("order.email"),
			"description":  {Concat: []connector.Expr{{Const: "refund of order"}, connector.P("order.name")}, Sep: " "},
			"created_at":   {Path: "createdAt", Type: "timestamp"},
			"updated_at":   {Path: "createdAt", Type: "timestamp"},
		}},
	},
}

// query is the GraphQL document of a stream's page.
func (d *streamDef) query() string {
	return `query desilo_` + d.name + `($first: Int!, $after: String, $query: String) {
	` + d.root + `(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
		pageInfo { hasNextPage endCursor }
		nodes { ` + d.nodeFields + ` }
	}
}`
}

func (d *streamDef) stream() connector.Stream {
	return connector.Stream{
		Name:        d.name,
		Description: d.description,
		Schema:      json.RawMessage(d.schema),
		PrimaryKey:  []string{"id"},
		CursorField: d.cursorField(),
		Mapping:     d.mapping,
	}
}

// cursorField is the record field reads advance by; a refund advances by
// its order's updatedAt.
func (d *streamDef) cursorField() string {
	if d.name == "refunds" {
		return "order.updatedAt"
	}
	return "updatedAt"
}
