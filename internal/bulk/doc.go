// Package bulk is the console's bulk upload engine: it reads NDJSON or a JSON
// array as a stream with line numbers, checks every record before anything is
// sent, sends with PutRecords within the API's limits, and runs each upload as
// a job (check, send, cancel, expire, report) with its files in the console's
// own temporary folder. It knows nothing of HTTP: the web layer binds forms,
// calls a Manager and renders what a Job reports.
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
