// Package files is the desilo connector for local files: CSV, JSON Lines
// and JSON, each optionally gzip-compressed (.gz).
//
// Each configured stream is a set of glob patterns (filepath.Match syntax,
// plus ** for any number of directories). Relative patterns are relative
// to the working directory, which the host sets to the directory of
// desilo.yaml. The matched files are read in sorted order, one row at a
// time, so memory stays bounded however large a file is (a single JSON
// record must fit in memory; a JSON Lines line, and a CSV record, may
// hold up to 16 MiB).
//
// Formats:
//   - csv: a header row names the columns (or, with header: false, the
//     columns are column_1, column_2, ...). Every value is a string, an
//     empty cell is null; mappings convert types. The files are UTF-8
//     (a BOM is skipped) or Latin-1, which is read as Windows-1252, as
//     browsers read it: € „ “ – and the like at 0x80–0x9F, where Excel
//     writes them.
//   - jsonl: one JSON object per line; blank lines are skipped.
//   - json: an array of objects, or objects one after another, decoded
//     element by element.
//
// Nothing passes silently: a row with the wrong number of fields, invalid
// JSON or invalid UTF-8, a row lacking a primary key or cursor value, or
// a record that does not validate against the stream's schema is emitted
// as a connector.Reject located "path:line", and the stream goes on. After
// a JSON syntax error the rest of that file cannot be parsed and is
// rejected as a whole; a CSV header without the primary key columns
// rejects its file. A JSON Lines or CSV line longer than 16 MiB is a
// reject; so is a CSV record that runs longer over several lines, as one
// whose quote is never closed does, and the lines after its first are
// then read as rows of their own. I/O and gzip errors fail the read.
//
// The record schema is the stream's configured schema, or else inferred:
// CSV columns are nullable strings; JSON fields get the types seen in the
// first 1000 records, widened (integer to number, every field nullable,
// mixed types unrestricted). Discover closes the inferred schema of a
// stream of CSV files ("additionalProperties": false) when it lists every
// file's columns, so that desilo refuses a mapping of a missing column. A schema that only gives top-level fields
// JSON types and requires some, as an inferred one does, is checked
// without decoding the records; any other configured schema is checked
// by a JSON Schema validator on the decoded record, which is several
// times slower.
//
// Incremental reads. The state keeps, per stream, each file read with its
// size and modification time, and on Linux its inode and change time,
// which a copy that keeps the first two (cp -p, rsync -t, tar x) still
// changes; a later Read skips unchanged files, and reads changed and new
// files. A file that goes away between listing and reading is skipped
// with a warning. Files that no longer match are forgotten (and read again
// should they reappear); the records read from them stay staged, as do
// rows removed from a file: deletions are not reported, and a full
// refresh (desilo sync --full-refresh --source NAME) replaces what is
// staged with what the files hold now.
//
// With a cursor_field the state also keeps the highest cursor value read,
// per file and for the stream. A changed file's rows below the highest
// value read from that file are skipped, so a row arriving late in one
// file is not lost to a higher value in another. A new file's rows below
// the stream's highest value are skipped, so a drop folder of full
// exports yields what is new; a new file of older rows (a backfill) needs
// a full refresh or no cursor_field. Rows at the highest value are read
// again: they may have changed without a new value (a date cursor), or
// have been cut short while the file was being written; staging keeps one
// version per key. Cursor values compare as numbers when both are numbers
// (or numeric strings; integers exactly however long), as instants when
// both are RFC 3339 timestamps (any offset, any fraction of a second),
// otherwise as text. The stream's highest value advances only once every
// file of the stream is read, so an interrupted read resumes with the
// same filter. Without a cursor_field, every row of a changed file is
// emitted again.
//
// A checkpoint follows each file read, and one ends each stream.
package files
