// Package views renders the console's HTML with templ. It holds plain view
// models and templates only: no I/O, no HTTP framework, no AWS SDK, so every
// page can be rendered and checked in a unit test.
package views

import (
	"strings"

	"github.com/kinesis-console/kinesis-console/internal/field"
)

// Assets holds the content-hashed URLs of the static files.
type Assets struct {
	CSS  string
	HTMX string
	App  string
}

// Page is the main screen.
type Page struct {
	Assets     Assets
	Header     Header
	Streams    StreamList
	Workspace  Workspace
	HTMXConfig string // JSON for the htmx-config meta tag
}

// Header is the top bar: who the console writes as, and where.
type Header struct {
	Path     string         // the page's own path, where the target picker leads; "/" when empty
	Target   string         // the target writes go to
	Targets  []TargetOption // the picker's choices; empty with one target
	User     string         // the signed-in user; empty when sign-in is off
	Region   string
	Endpoint string // empty when the SDK's default AWS endpoint is used
	Caller   Caller
}

// Caller is the AWS identity, or why it is unknown.
type Caller struct {
	Account string
	ARN     string
	UserID  string
	Err     string
}

// StreamList feeds the stream picker's suggestions.
type StreamList struct {
	Names []string
	Err   string // why the list is missing or partial; typing a name still works
}

// Workspace is the form and its result.
type Workspace struct {
	Denied  string // why this user may not write at all; the form is not shown
	Form    Form
	Result  *Result
	Failure *Failure
	// Repeats counts the times this form was sent again after the first:
	// each was answered with the first answer, and wrote nothing.
	Repeats int
	// Stale: the form's key was sent before with other data (a page
	// restored by Back, then edited), so nothing was sent this time.
	Stale bool
	// SentURL, on a form brought back by Back after a plain (no
	// JavaScript) put, is that put's answer: the form shows what was sent,
	// with its key, so sending it again is a repeat.
	SentURL string
}

// Form is the record form as the user filled it.
type Form struct {
	Target                    string // the account and region it writes to
	Stream                    string
	Data                      string
	DataFormat                string
	PartitionKey              string
	ExplicitHashKey           string
	SequenceNumberForOrdering string
	AllowEmpty                bool // the user chose to write a record with no data
	MaxRecordBytes            int
	Errors                    FieldErrors
	// ConfirmStream is what the user typed to confirm a stream that matters.
	ConfirmStream string
	// Consumers is what applies to the stream: schema, templates, confirmation.
	Consumers Consumers
	// StreamChoices are streams to pick from, shown while none is chosen.
	StreamChoices []StreamChoice
	// SubmissionKey is this render's one-time key: sending the form twice
	// with it writes once.
	SubmissionKey string
}

// StreamChoice is a stream to pick from the list a form with no stream shows.
type StreamChoice struct {
	Name     string
	URL      string // the page with the stream chosen
	FactsURL string // its shards and status
}

// FieldError is a message for one form field.
type FieldError struct {
	Field   string
	Message string
}

// FieldErrors are a form's messages, in the order its fields come.
type FieldErrors []FieldError

// For returns the message for a field, or "".
func (e FieldErrors) For(name string) string {
	for _, fe := range e {
		if fe.Field == name {
			return fe.Message
		}
	}
	return ""
}

// First names the first field with an error, for autofocus.
func (e FieldErrors) First() string {
	if len(e) == 0 {
		return ""
	}
	return e[0].Field
}

// Result is a successful put.
type Result struct {
	Stream         string
	PartitionKey   string
	DataBytes      int
	ShardID        string
	SequenceNumber string
	EncryptionType string
	RequestID      string
	HTTPStatus     int
	Attempts       int
	Latency        string
	Caller         Caller
	ResponseJSON   string // the response as boto3 prints it, indented
	ReadBackVals   string // JSON of the read-back request's extra fields: the token the console signed for this put
	ReachedURL     string // the first look at whether the stream's readers got it, with the same token
	WrittenAt      string // RFC 3339, UTC
	WrittenWith    string // how a schema shaped the record: checked, encoded, framed; "" without one
	Target         string // where it was written, for the link to the stream's records
	DataSHA256     string // hex SHA-256 of the data written: with the rest, the write's proof
}

// Failure is a put that AWS refused or whose outcome is unknown.
type Failure struct {
	Title          string
	Explanation    string
	Code           string
	Message        string
	RequestID      string
	HTTPStatus     int
	Attempts       int
	MayHaveWritten bool
	Caller         Caller
}

// ErrorPage is shown for errors outside the form: 404, 500 and the like.
type ErrorPage struct {
	Assets  Assets
	Status  int
	Title   string
	Message string
	// HTMXConfig configures htmx as on every page: without it, htmx adds
	// its indicator styles as an inline <style>, which the CSP refuses.
	HTMXConfig string
}

// StreamSummary describes the picked stream.
type StreamSummary struct {
	Name           string
	ARN            string
	Status         string
	Active         bool
	CapacityMode   string
	OpenShards     int
	RetentionHours int
	EncryptionType string
	KeyID          string
	MaxRecordBytes int
	Err            string // why there is no summary
	RecordsURL     string // the stream's records page; "" when the user may not read it
	// ReadersURL is the summary of the stream's readers, fetched after the
	// summary; "" when the user may not read it or the target finds none.
	ReadersURL string
}

// ShardPreview says where a record with the typed key will land.
type ShardPreview struct {
	Empty        bool   // nothing to preview yet
	Err          string // why there is no preview
	Source       string // "partition key" or "ExplicitHashKey"
	HashKey      string
	ShardID      string
	StartHashKey string
	EndHashKey   string
	OpenShards   int
	NoShard      bool // the key maps to no open shard
	RefreshedAgo string
}

// ReadBack is the record read back from the stream after a put.
type ReadBack struct {
	Err            string // why it could not be read back; the write itself succeeded
	Matches        bool
	Difference     string
	SentAround     string
	GotAround      string
	Data           string // the bytes exactly as read: text, or base64 when they are not UTF-8
	DataKind       string // "JSON", "text" or "base64"
	Pretty         string // JSON indented, when that differs from Data; else empty
	PartitionKey   string
	SequenceNumber string
	ArrivedAt      string
	SentBytes      int
	// Shaped says how a schema changed the data before it was written
	// ("Avro-encoded", "framed", ...); then the record is compared with
	// the bytes written, not with the data typed.
	Shaped string
}

// StreamOptions are matches for the stream picker's search.
type StreamOptions struct {
	Names []string
	More  int // matches beyond Names
	Err   string
}

// CodeSnippets are the filled form written as code.
type CodeSnippets struct {
	Err    string
	AWSCLI string
	Boto3  string
	Go     string
}

// TargetOption is one account and region in the header's picker.
type TargetOption struct {
	Name     string
	Label    string
	Selected bool
}

// kebab writes a field name as an id or test id: partition_key as partition-key.
func kebab(name string) string {
	return strings.ReplaceAll(name, "_", "-")
}

// fieldLabels name the record form's fields as the form labels them.
var fieldLabels = map[string]string{
	field.Stream:                    "Stream",
	field.Data:                      "Data",
	field.DataFormat:                "Data format",
	field.PartitionKey:              "Partition key",
	field.ExplicitHashKey:           "ExplicitHashKey",
	field.SequenceNumberForOrdering: "SequenceNumberForOrdering",
	field.ConfirmStream:             "Stream confirmation",
	field.AllowEmpty:                "Data",
}

// fieldLabel is a record form field's label, for a list of its problems.
func fieldLabel(name string) string {
	if l, ok := fieldLabels[name]; ok {
		return l
	}
	return name
}

// fieldInputID is the id of a record form field's input: its name in
// kebab case (the data format's radios sit by the data box).
func fieldInputID(name string) string {
	switch name {
	case field.DataFormat, field.AllowEmpty:
		return "data"
	}
	return strings.ReplaceAll(name, "_", "-")
}
