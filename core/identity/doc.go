// Package identity links records to customers by deterministic key
// matching and gives each customer a stable id.
//
// Records link when they share a normalized value of a match key (a
// single field such as email, or a composite such as last name + birth
// date + postal code whose parts must all be present). Before any key, a
// record's customer_ref links it to the customer record of the same source
// whose primary key it names (the "ref" rule); a ref that names no such
// record is counted, one that names several (the same key in two streams)
// links nothing and is reported. Blocklisted and placeholder
// values link nothing, and so does a value held by more customer records
// than its key's MaxRecordsPerValue (by more records of any entity when
// no customer record holds it: a customer's own orders and messages,
// which carry its email, do not make the email too common); both are
// reported. A cardinality limit refuses a union that would give a
// customer more distinct values of a key than allowed, and more than
// either side held already (a record holding too many is kept as it is);
// a record refused a union tries the other clusters that hold the value,
// and is reported only when it joins none. A LimitOnly key links nothing:
// its values only count for its limit.
//
// Determinism: unions are tried in one canonical order — the ref rule,
// then keys in configured order, within a key by value (64-bit hash, ties
// by the value itself), within a value from its first record (in
// (Source, Stream, Key) order) to each other record, and a refused record
// to the value's other clusters in the order they formed. Nothing depends
// on the order records were added in.
//
// Ids: a customer's id is derived from its anchor, the record seen first
// (Record.Seen, its created_at, which an edit does not move; records
// without one come last; ties by Source, Stream, Key): "c_" and 16 hex digits of
// sha256(source NUL stream NUL key). A cluster that does not change keeps
// its id. When previous customers end up in one cluster, the cluster takes
// its anchor's id (the oldest record's) and each previous id that no
// longer exists gets one merge row pointing to the cluster that holds its
// earliest record. A split needs no special case: each part takes its own
// anchor's id, so the part that keeps the old anchor keeps the old id and
// the other part gets a new id without a merge row, since nothing was
// absorbed. An id whose anchor left the cluster (a record deleted, a rule
// tightened) is merged into the cluster holding its earliest remaining
// record.
//
// Memory: Index keeps per record only its source, stream, primary key and
// first-seen time; the normalized values live in one byte arena, indexed
// by flat slices of (hash, record, offset), grouped by sorting. Callers
// stream records into Index.Add and can drop each Record's fields at once.
package identity
