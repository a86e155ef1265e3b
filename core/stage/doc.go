// Package stage is the local staging store under state_dir: the records
// each source's extractions produced, as Parquet segments, the source's
// saved connector state, its rejects, and the run lock.
//
// # Layout
//
//	state_dir/lock                                 the run lock (see Lock)
//	state_dir/staging/<source>/_manifest.json      what is committed
//	state_dir/staging/<source>/<stream>/<seq>.parquet
//	state_dir/staging/<source>/_rejects/<seq>.parquet
//
// A stream's directory is its name with unsafe bytes %-escaped (a leading
// '_' included, so no stream collides with the manifest or the rejects).
// Sequence numbers are per source and only grow. A segment holds rows of
// the stream's model table plus a boolean column _desilo_deleted that
// marks tombstones.
//
// # Commit protocol
//
// The manifest is the single source of truth: the segments listed in it,
// the connector state in it and the reject segments in it are the store;
// anything else in the directory is left over from an interrupted run and
// Open removes it. A commit writes the whole manifest anew: temp file,
// fsync, rename, fsync of the directory.
//
// The saved state may only advance to a checkpoint once every row written
// before it is durable. Parquet files cannot be appended to durably, so an
// extraction (Begin, Write, Reject, Checkpoint, Finish) writes each stream
// into an open segment, a temporary file that counts for nothing yet. A
// checkpoint is kept pending. When the open segments hold
// Options.SegmentRows rows, when a pending checkpoint is older than
// Options.CommitAge, and at Finish, the session
//
//  1. closes every open segment: the Parquet writer syncs the file,
//     renames it to <seq>.parquet and syncs the directory;
//  2. commits a manifest that lists those segments and carries the pending
//     checkpoint as the state.
//
// A crash before step 2 leaves the previous manifest: its state, its
// segments. The closed but unlisted segments and the temporary files are
// removed by the next Open, and the next run reads again from the
// committed state: nothing is lost. Rows written after the committed
// checkpoint but closed with it are kept; the connector emits them again
// and, as Scan keeps the latest version per record_key, nothing is
// duplicated. Abort is a crash without the leftovers.
//
// A full refresh (BeginOptions.FullRefresh) starts from an empty state
// and commits nothing until Finish, whose one manifest replaces all of the
// source's streams, state and rejects with the session's; the old files
// are removed after. A stream the session did not write is gone after it.
// An aborted or crashed full refresh changes nothing.
//
// # Rejects
//
// Rejects are staged per session in their own segments. The build reads
// the rejects of the source's latest finished session (ScanRejects). A
// session that committed checkpoints and then failed leaves its committed
// rejects pending, and they are added to the rejects of the next session
// that finishes. A commit takes every reject written so far, some after
// its checkpoint, which the next session may reject again: the build
// keeps one row per rejected record. A finishing session also carries
// forward the earlier rejects, its finished predecessor's and the
// interrupted sessions', whose record no later session read again (see
// carryRejects), so a reject stands until its record is staged or
// rejected anew, or its source is fully refreshed.
//
// # Reading
//
// Scan yields one row per record_key, its latest version: a higher
// segment sequence wins, and within a segment a later row. A key whose
// latest version is a tombstone is left out. It reads segments newest
// first, each twice: first only the record_key and deleted columns, to
// decide which rows win, then the winning rows. Deduplication keeps a set
// of 64-bit hashes of keys, never the keys themselves (a compaction,
// which writes its result for good, two sets of independent hashes); see
// eachLatest for its cost per record and the odds of a collision.
//
// Compact merges a stream's segments into one when there are more than
// Options.CompactSegments, keeping exactly what Scan yields.
//
// # Concurrency
//
// A state dir is used by one run at a time: Open requires the RunLock,
// an flock that dies with its holder. Within a run, one extraction or
// compaction at a time may change a source; scans run alongside and see
// the last committed manifest.
package stage
