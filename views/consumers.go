package views

// Consumers is what the console knows consumers of a stream expect, shown
// in the form before anything is sent.
type Consumers struct {
	Stream    string
	Schema    *SchemaInfo
	Templates []string // names of the config templates offered
	Confirm   bool     // writes need the stream's name typed again
	Template  string   // the template the form was filled from, if any
	Shards    []ShardChoice
	// Notice says something the user should know, e.g. a template that did
	// not expand or a link whose data was left out.
	Notice string
}

// SchemaInfo names the schema a stream's records are checked against.
type SchemaInfo struct {
	Ref           string // registry/schema@version
	Registry      string
	Name          string
	Version       string // "latest" or a number, as configured
	VersionNumber int64  // the version used, once known
	VersionID     string
	Format        string // JSON or AVRO, once known
	Framed        bool
	Compression   string // "none" or "zlib"
}

// ShardChoice is one open shard the shard picker offers: choosing it fills
// the ExplicitHashKey with Key, a key in its hash range.
type ShardChoice struct {
	ID  string
	Key string
}
