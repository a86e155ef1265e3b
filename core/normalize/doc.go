// Package normalize turns raw identifying values (emails, phone numbers,
// names, postal codes, countries, dates) into canonical forms that compare
// equal when they denote the same thing.
//
// Every normalizer returns (value, ok). ok is false when the input is empty
// or not a valid value of its kind; such a value must not be used for
// matching. Normalizers are idempotent: normalizing an output again yields
// the same output. They are safe for concurrent use.
package normalize
