// Package field names the console's form fields, once: the handlers that
// bind them, the checks that report errors on them, and the templates that
// render them all use these names.
package field

// The record form.
const (
	Target                    = "target"
	Stream                    = "stream"
	Data                      = "data"
	DataFormat                = "data_format"
	PartitionKey              = "partition_key"
	ExplicitHashKey           = "explicit_hash_key"
	SequenceNumberForOrdering = "sequence_number_for_ordering"
	// ErrorsShown is sent by a record form that shows field errors, so that
	// the answer to it replaces the form as well as the result.
	ErrorsShown = "errors_shown"
	// SubmissionKey is the record form's one-time key: every render of the
	// form has a new one, and a repeat of a submission (a reload, Back and
	// resubmit, a retry) sends the same one again, so it writes nothing.
	SubmissionKey = "submission_key"
	// AllowEmpty, "true", is the explicit choice to write a record with no
	// data: Kinesis takes one, but an empty box is more often a mistake.
	AllowEmpty = "allow_empty"
)

// The bulk upload form, beside Stream, PartitionKey and ExplicitHashKey.
const (
	Format              = "format"
	PartitionKeyMode    = "partition_key_mode"
	ExplicitHashKeyMode = "explicit_hash_key_mode"
	Records             = "records"
	File                = "file"
	Rate                = "rate"
	SendValidOnly       = "send_valid_only"
	ResendUnknown       = "resend_unknown"
	// Verify, "1", reads the upload back from the stream once it is sent;
	// "0" skips that. Absent means yes.
	Verify = "verify"
	// Replaces names the checked, unsent upload that the page showed when
	// the form was sent: the new upload replaces it (it is discarded).
	Replaces = "replaces"
)

// What consumers expect: a typed confirmation, templates, links.
const (
	// ConfirmStream is where a stream that matters has its name typed again.
	ConfirmStream = "confirm_stream"
	// Template names a config template to fill the form from.
	Template = "template"
	// Count is how many records "generate from this template" sends.
	Count = "count"
)

// The records page (a stream's records, its tail and its export), beside
// Target, and Format for the export ("ndjson").
const (
	From   = "from"   // where reading starts: a stream.PositionType
	At     = "at"     // an RFC 3339 time or a sequence number, for From
	Shard  = "shard"  // a shard to read; repeatable
	Limit  = "limit"  // records a page shows
	Query  = "q"      // the filter
	Cursor = "cursor" // the Reader's cursor to an older or newer page
	// ResendOf is sent by a record's Resend form to the put, so that the
	// write is audited as a resend of that record.
	ResendOf = "resend_of"
)
