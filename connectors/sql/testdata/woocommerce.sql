-- The WooCommerce tables preset woocommerce reads, as WooCommerce creates
-- them (HPOS wc_orders, wc_order_stats, wc_customer_lookup), with a few
-- rows. {prefix} is replaced by the test's unique table prefix.
CREATE TABLE {prefix}wc_customer_lookup (
	customer_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
	user_id bigint(20) unsigned DEFAULT NULL,
	username varchar(60) DEFAULT '' NOT NULL,
	first_name varchar(255) NOT NULL,
	last_name varchar(255) NOT NULL,
	email varchar(100) NULL default NULL,
	date_last_active timestamp NULL default null,
	date_registered timestamp NULL default null,
	country char(2) DEFAULT '' NOT NULL,
	postcode varchar(20) DEFAULT '' NOT NULL,
	city varchar(100) DEFAULT '' NOT NULL,
	state varchar(100) DEFAULT '' NOT NULL,
	PRIMARY KEY (customer_id),
	UNIQUE KEY user_id (user_id),
	KEY email (email)
) DEFAULT CHARSET=utf8mb4;

CREATE TABLE {prefix}wc_order_stats (
	order_id bigint(20) unsigned NOT NULL,
	parent_id bigint(20) unsigned DEFAULT 0 NOT NULL,
	date_created datetime DEFAULT '0000-00-00 00:00:00' NOT NULL,
	date_created_gmt datetime DEFAULT '0000-00-00 00:00:00' NOT NULL,
	date_paid datetime DEFAULT '0000-00-00 00:00:00',
	date_completed datetime DEFAULT '0000-00-00 00:00:00',
	num_items_sold int(11) DEFAULT 0 NOT NULL,
	total_sales double DEFAULT 0 NOT NULL,
	tax_total double DEFAULT 0 NOT NULL,
	shipping_total double DEFAULT 0 NOT NULL,
	net_total double DEFAULT 0 NOT NULL,
	returning_customer tinyint(1) DEFAULT NULL,
	status varchar(20) NOT NULL,
	customer_id bigint(20) unsigned NOT NULL,
	PRIMARY KEY (order_id),
	KEY date_created (date_created),
	KEY customer_id (customer_id),
	KEY status (status)
) DEFAULT CHARSET=utf8mb4;

CREATE TABLE {prefix}wc_orders (
	id bigint(20) unsigned,
	status varchar(20) null,
	currency varchar(10) null,
	type varchar(20) null,
	tax_amount decimal(26,8) null,
	total_amount decimal(26,8) null,
	customer_id bigint(20) unsigned null,
	billing_email varchar(320) null,
	date_created_gmt datetime null,
	date_updated_gmt datetime null,
	parent_order_id bigint(20) unsigned null,
	payment_method varchar(100) null,
	payment_method_title text null,
	transaction_id varchar(100) null,
	ip_address varchar(100) null,
	user_agent text null,
	customer_note text null,
	PRIMARY KEY (id),
	KEY status (status),
	KEY date_created (date_created_gmt),
	KEY customer_id_billing_email (customer_id, billing_email(171)),
	KEY billing_email (billing_email(171)),
	KEY type_status_date (type, status, date_created_gmt),
	KEY parent_order_id (parent_order_id),
	KEY date_updated (date_updated_gmt)
) DEFAULT CHARSET=utf8mb4;

-- Anna is registered (WordPress user 7), the guest has no user, Ben
-- (user 9) ordered but the analytics import has not reached his order.
INSERT INTO {prefix}wc_customer_lookup
	(customer_id, user_id, username, first_name, last_name, email, date_last_active, date_registered, country, postcode, city, state)
VALUES
	(1, 7, 'anna', 'Anna', 'Schmidt', 'anna@example.com', '2024-03-02 10:00:00', '2023-11-05 08:30:00', 'DE', '10115', 'Berlin', 'BE'),
	(2, NULL, '', 'Gus', 'Guest', 'guest@example.org', '2024-02-10 12:00:00', NULL, 'AT', '1010', 'Wien', ''),
	(3, 9, 'ben', 'Ben', 'Meyer', 'ben@example.net', NULL, '2024-01-01 00:00:00', 'DE', '80331', 'München', 'BY');

INSERT INTO {prefix}wc_order_stats
	(order_id, parent_id, date_created, date_created_gmt, num_items_sold, total_sales, tax_total, shipping_total, net_total, returning_customer, status, customer_id)
VALUES
	(100, 0, '2024-03-02 11:00:00', '2024-03-02 10:00:00', 2, 49.9, 7.97, 4.9, 37.03, 0, 'wc-completed', 1),
	(101, 0, '2024-02-10 13:00:00', '2024-02-10 12:00:00', 1, 1234567.89, 0, 0, 1234567.89, 0, 'wc-processing', 2),
	(103, 100, '2024-03-05 09:00:00', '2024-03-05 08:00:00', -1, -10, 0, 0, -10, 0, 'wc-completed', 1);

INSERT INTO {prefix}wc_orders
	(id, status, currency, type, tax_amount, total_amount, customer_id, billing_email, date_created_gmt, date_updated_gmt, parent_order_id, payment_method)
VALUES
	(100, 'wc-completed', 'EUR', 'shop_order', 7.97000000, 49.90000000, 7, 'anna@example.com', '2024-03-02 10:00:00', '2024-03-03 09:00:00', 0, 'stripe'),
	(101, 'wc-processing', 'EUR', 'shop_order', 0, 1234567.89000000, 0, 'guest@example.org', '2024-02-10 12:00:00', '2024-02-10 12:00:00', 0, 'bacs'),
	(102, 'wc-on-hold', 'EUR', 'shop_order', 0, 15.00000000, 9, 'ben@example.net', '2024-03-04 07:00:00', NULL, 0, 'bacs'),
	(103, 'wc-completed', 'EUR', 'shop_order_refund', 0, 10.00000000, 0, NULL, '2024-03-05 08:00:00', '2024-03-05 08:00:00', 100, '');
