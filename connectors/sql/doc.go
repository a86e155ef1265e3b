// Package sql is the sql connector: tables and queries of PostgreSQL
// (through pgx) and MySQL/MariaDB (through go-sql-driver/mysql) as streams.
//
// Reading. Each stream is read in pages of batch_size rows by keyset
// paging, never OFFSET: ORDER BY (cursor, primary key...) and, after the
// first page, WHERE (cursor, pk...) > (last row's values). A query stream
// is wrapped as a subquery for this. Rows are emitted as they arrive, so
// memory does not grow with the table. After each page the connector
// checkpoints the last row's key values; a later read continues strictly
// after them, so rows sharing the last cursor value are neither skipped
// nor repeated. Rows written later with a cursor value equal to or below
// the checkpoint's and a smaller primary key are not seen: the cursor must
// grow on every write (an updated_at the application or a trigger sets, or
// an increasing id). A timestamp cursor set before a long transaction
// commits breaks that rule; cursor_lookback makes each read start that
// much before the saved cursor value, and skips the rows it delivered in
// that window while they are unchanged. Rows whose cursor is NULL have no
// place in that order, nor have MySQL zero dates, PostgreSQL float NaN
// and ±Infinity, and numeric NaN: after the cursor's pass, every run reads
// all of them again, paged by the primary key (the log counts them), so
// none is lost and staging keeps one version of each (those without a
// JSON number are rejects, see Values). A zero date in a primary key
// column is a key like any other. A stream without cursor_field is
// read in full every run; an interrupted read of either kind resumes
// where it stopped. MySQL ENUM and SET key columns are ordered and
// compared by their text, not by their position in the type (the two
// disagree), so an index on such a column does not serve the order.
//
// Values. Column types decide the JSON of a value and the record schema:
// integers are integers; DECIMAL/NUMERIC are JSON numbers written with the
// database's exact digits, never passed through a float, so 19.99 stays
// 19.99 (a NaN or Infinity makes the row a reject, except in a primary
// key column or as a numeric ±Infinity cursor, where it fails the read:
// it cannot be a saved key); floats are numbers, a 32-bit float (real,
// MySQL FLOAT) with the shortest digits that read back as the same float,
// 1.1 as 1.1; booleans are booleans; timestamps are RFC 3339 strings in UTC
// (zone-less PostgreSQL timestamp and MySQL DATETIME are taken as UTC; a
// MySQL DATETIME is taken in the DSN's loc if it sets one, with parseTime
// true or false); dates are YYYY-MM-DD; json/jsonb are the
// JSON value itself (MariaDB stores JSON as LONGTEXT, so it arrives as a
// string); binary columns are standard base64 strings; every other type
// (text, enum, uuid, time, intervals, arrays) is its text form. MySQL zero
// dates are null. Nullable columns allow null; all columns of a query
// stream do, since a query's nullability is not known.
//
// MySQL session. A MySQL TIMESTAMP is an instant that MySQL returns in the
// session time zone, so the connector sets time_zone to '+00:00' on every
// connection and reads TIMESTAMP as UTC. A time_zone the DSN sets is
// replaced, with a warning in the log: SQL in a query stream that depends
// on the session zone (NOW(), a date-time literal compared with a
// TIMESTAMP) sees UTC. Every page is a prepared statement, read
// through the binary protocol, the first page too (MariaDB's text protocol
// writes FLOAT with 6 significant digits): interpolateParams in the DSN is
// ignored.
//
// Secrets. The DSN and its password never reach a log or an error: errors
// from the drivers are redacted before they leave the connector.
//
// Preset woocommerce adds the streams customers and orders over the
// standard WooCommerce tables, with default mappings (see
// wooCommerceStreams). Table streams have no default mapping: the user
// maps them in desilo.yaml.
package sql
