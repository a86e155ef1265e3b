// Package mapping compiles a stream's field mapping (connector.Mapping)
// into a Plan that turns records into rows of the entity's model table.
//
// Compile checks everything that does not depend on data once: the entity,
// each target field (it exists, is not a system column; "ids.<name>" for
// the customer's external ids), each expression (exactly one of path,
// coalesce, concat, const; type, layout and scale valid and able to fill
// the field), and that every field the entity requires is mapped. Errors
// name the stream and field: `mapping contacts.emial: unknown target field
// "emial" (did you mean "email"?)`.
//
// Map reads a record's JSON in one pass, collecting only the paths the plan
// needs, converts, and validates the row against what the entity's JSON
// Schema declares (required fields, enums, patterns, lengths, bounds). A
// record that fails returns a *RejectError with the reason.
//
// Evaluation of one expression: the value (path, first non-empty of
// coalesce, non-empty parts of concat joined by sep, const), then trim,
// lower, values (looked up by the text after trim and lower; a value not
// listed stays, one translated to "" becomes empty), then the conversion.
// Missing, null and "" are empty; an empty value is nil in the row, and a
// list column drops empty elements.
//
// Values keys match a value's text: a JSON number 2 is "2", true is
// "true". Inside coalesce and concat an expression converts only when it
// names a type (a layout needs one there); the top-level expression
// converts to the field's type.
//
// Conversions (type; the default is the target field's type):
//
//	string       strings as they are; numbers as their JSON literal; true/false
//	integer      12, "12", 12.0, "1e3"; not 12.5 or "12,5"
//	number       12.5, "12.5", "-1e3"; not "12,50": a decimal comma cannot be
//	             told from a thousands separator ("1,250"), so it is rejected
//	             rather than guessed; NaN, Inf, hex and "_" forms are rejected
//	boolean      true/false and, any case, "true"/"false", yes/no, y/n, 1/0, on/off
//	timestamp    layout rfc3339 (default; 'T' or a space, Z or an offset),
//	             epoch_s or epoch_ms (JSON numbers or numeric strings, decimals
//	             allowed, years 1000..9999 only, which catches milliseconds
//	             read as seconds, and for epoch_ms not 1970..1973 either,
//	             which catches seconds read as milliseconds),
//	             or a Go layout ("02.01.2006 15:04"; without a zone it is UTC;
//	             a zone abbreviation such as MST is refused, as its offset
//	             can only be guessed: use -0700);
//	             stored in UTC
//	date         as timestamp, default layout 2006-01-02 (an RFC 3339
//	             timestamp gives its calendar date in its own offset); stored
//	             as midnight UTC
//	money_minor  an integer amount in minor units divided by 10^scale (scale
//	             0 or unset means 2) into a number
//
// Text is trimmed before it is parsed as anything but a string. An integer
// may fill a number field; a timestamp a date field (its UTC date) and a
// date a timestamp field (midnight UTC).
//
// Paths: "a.b" descends into objects; a segment of digits ("a.0.b") is an
// array index when the value is an array and a member name otherwise;
// "a[].b" takes every element and yields a list (for list fields); a
// backslash escapes '.', '[', ']' and itself in member names ("Str\.").
// A path without "[]" that holds an array fills a list field with the
// array's elements; elements must be single values. JSON leaves duplicate
// member names undefined; here the last value seen at a path wins.
//
// record_key is the primary key's value as text (a number's JSON literal).
// With several key fields the values are joined with '|', and '|' and '\'
// inside a value are escaped with '\' ("a\|b|c"), so keys never collide.
// A stream without a primary key is keyed by the first 128 bits of the
// SHA-256 of its record's JSON, in hex.
//
// Reject reasons quote at most 64 bytes of the offending value; the whole
// record is in the reject row's payload.
package mapping
