package sql

import "github.com/desilo/desilo/plugins/connector"

const presetWooCommerce = "woocommerce"

// wooCommerceStreams are the streams of preset woocommerce. They read the
// standard WooCommerce tables (prefix is WordPress's $table_prefix):
//
//   - customers: wc_customer_lookup, WooCommerce's own customer table,
//     which holds registered customers and guests alike (one row per
//     billing email for guests). Read in full every run: it has no
//     modification time.
//   - orders: wc_orders, the order table of High-Performance Order Storage
//     (the default since WooCommerce 8.2), orders only (type shop_order,
//     not refunds), joined with wc_order_stats for the customer-lookup id
//     and the item count; read incrementally by date_updated_gmt. A store
//     still on the legacy posts storage has to enable HPOS (or its
//     compatibility sync) for this stream to see its orders.
//
// customer_ref of an order is the wc_customer_lookup id, the customers
// stream's primary key; wc_order_stats is filled asynchronously, so the
// lookup row of the order's WordPress user is the fallback.
func wooCommerceStreams(prefix string) []streamConfig {
	t := func(name string) string { return "`" + prefix + name + "`" }
	return []streamConfig{
		{
			Name:       "customers",
			Table:      prefix + "wc_customer_lookup",
			PrimaryKey: []string{"customer_id"},
			mapping: &connector.Mapping{
				Entity: "customer",
				Fields: map[string]connector.Expr{
					"email":                       connector.P("email"),
					"first_name":                  connector.P("first_name"),
					"last_name":                   connector.P("last_name"),
					"city":                        connector.P("city"),
					"postal_code":                 connector.P("postcode"),
					"region":                      connector.P("state"),
					"country":                     connector.P("country"),
					"ids.woocommerce_customer_id": {Path: "customer_id", Type: "string"},
					"created_at":                  {Path: "date_registered", Type: "timestamp"},
					"updated_at": {Coalesce: []connector.Expr{
						{Path: "date_last_active", Type: "timestamp"},
						{Path: "date_registered", Type: "timestamp"},
					}},
				},
			},
		},
		{
			Name: "orders",
			Query: "SELECT o.id, o.status, o.currency, o.total_amount, o.tax_amount, o.billing_email," +
				" o.customer_id AS user_id, COALESCE(s.customer_id, c.customer_id) AS customer_id," +
				" s.num_items_sold, o.payment_method, o.parent_order_id, o.date_created_gmt," +
				" COALESCE(o.date_updated_gmt, o.date_created_gmt) AS updated_at" +
				" FROM " + t("wc_orders") + " o" +
				" LEFT JOIN " + t("wc_order_stats") + " s ON s.order_id = o.id" +
				" LEFT JOIN " + t("wc_customer_lookup") + " c ON c.user_id = o.customer_id AND o.customer_id > 0" +
				" WHERE o.type = 'shop_order'",
			PrimaryKey:  []string{"id"},
			CursorField: "updated_at",
			mapping: &connector.Mapping{
				Entity: "order",
				Fields: map[string]connector.Expr{
					"order_number": {Path: "id", Type: "string"},
					"customer_ref": connector.P("customer_id"),
					"email":        connector.P("billing_email"),
					"total":        {Path: "total_amount", Type: "number"},
					"currency":     connector.P("currency"),
					"status": {Path: "status", Values: map[string]string{
						"wc-pending": "pending", "wc-processing": "processing", "wc-on-hold": "on-hold",
						"wc-completed": "completed", "wc-cancelled": "cancelled", "wc-refunded": "refunded",
						"wc-failed": "failed", "wc-checkout-draft": "checkout-draft",
					}},
					"ordered_at":  {Path: "date_created_gmt", Type: "timestamp"},
					"items_count": {Path: "num_items_sold", Type: "integer"},
					"created_at":  {Path: "date_created_gmt", Type: "timestamp"},
					"updated_at":  {Path: "updated_at", Type: "timestamp"},
				},
			},
		},
	}
}
