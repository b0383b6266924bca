// Package bulk is the console's bulk upload engine: it reads NDJSON or a JSON
// array as a stream with line numbers, checks every record before anything is
// sent, sends with PutRecords within the API's limits, and runs each upload as
// a job (check, send, cancel, expire, report) kept in the console's state
// store (package state: the local disk, or DynamoDB and S3), so that a job
// outlives its console and any replica can show it. It knows nothing of
// HTTP: the web layer binds forms, calls a Manager and renders what a Job
// reports.
//
// Exactly once across crashes. Each PutRecords call is journaled before it
// is made (its records) and after (what Kinesis answered); a runner holds
// the job's lease by a heartbeat and sends only while its lease is fresh
// (lease.go). A job whose runner stopped is taken over (resume.go): what
// the journal settled stays settled, the records in flight are looked for
// in the stream and end written or are sent again, never both.
//
// Pace. The sender lists the stream's open shards and knows each record's
// shard before it is sent (stream's one mapping: the ExplicitHashKey, else
// the MD5 of the partition key). Records wait in a queue per shard and each
// shard has token buckets of records and bytes at its write limits, so a
// hot shard waits while the others go on at theirs. A shard Kinesis
// throttles anyway has its rate halved and grows back (AIMD); an entry that
// lands on another shard than expected, or a key no open shard holds, makes
// the sender list the shards again (a reshard). What is read and not yet
// reported is bounded in bytes, and reading stops while it is spent, so
// memory does not grow with the input or a hot shard's backlog. Without
// ListShards (a role that may only put) records go unpaced, in input order,
// backing off when throttled.
//
// Duplicates. Kinesis is at-least-once: a PutRecords call whose answer is lost
// (timeout, connection reset after the request went out, HTTP 5xx) may have
// written its records. The sender retries without a second thought only what
// provably was not written: entries Kinesis failed one by one in an HTTP 200
// answer, requests refused whole by a throttling answer, and requests that
// never left (dial errors). A request with an unknown outcome is resent only
// when SendOptions.ResendUnknown is set, and then every record in it is
// reported possibly_duplicated once it may be in the stream more than once:
// the report never hides a record that may have been written twice. Without
// ResendUnknown such records end as "unknown" (they may have been written).
package bulk
