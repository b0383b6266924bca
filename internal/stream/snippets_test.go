package stream

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// snippetCase is a record typed into the form, and the format it was typed in.
type snippetCase struct {
	name string
	in   Input
}

// nastyData holds what breaks naive quoting in a shell, Python or Go: quotes
// of both kinds, backslashes (some that look like escapes), command
// substitutions that would create files if run, line breaks, control
// characters, Unicode that is not printable, and emoji.
const nastyData = `{"q": "it's \"quoted\"", "bs": "C:\\temp\\new", "cmd": "$(touch pwned-dollar) ` + "`touch pwned-backtick`" + ` ${HOME} $HOME",` +
	"\n" + `"ml": "line\u2028sep", "emoji": "😀👍🏽👨‍👩‍👧", "zw": "a` + "\u200b\ufeff" + `b"}`

func snippetCases() []snippetCase {
	const arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders.v2"
	binary := []byte{0x00, 0xff, 0xfe, '\'', '"', '\\', '$', '`', '\n', '\r', 0x80, 0x7f, 'x'}
	return []snippetCase{
		{name: "single and double quotes", in: Input{Stream: "orders", Format: FormatText,
			Data: `it's a "quote" and 'another' and '\''`, PartitionKey: `O'Brien "the" key`}},
		{name: "backslashes", in: Input{Stream: "orders", Format: FormatText,
			Data: `C:\path\to\new\x41\u0041\\ end\`, PartitionKey: `\\'\"\`}},
		{name: "command substitution", in: Input{Stream: "orders", Format: FormatText,
			Data: "$(touch pwned-dollar) `touch pwned-backtick` ${HOME:-x} $HOME $$ !! %s %d {0}", PartitionKey: "$(touch pwned-key)`touch pwned-key2`"}},
		{name: "line breaks and control characters", in: Input{Stream: "orders", Format: FormatText,
			Data: "line 1\nline 2\r\nline 3\rline 4\t\ttab \x01\x07\x1b[31mred\x1b[0m \x7f\n", PartitionKey: "a\nb\tc"}},
		{name: "unicode", in: Input{Stream: "orders", Format: FormatText,
			Data: "ünïcødé ß 中文 Ελληνικά עברית \u200b\ufeff\u2028\u2029\u0085 \U000e0001", PartitionKey: "Ключ-ünï\u200b"}},
		{name: "emoji", in: Input{Stream: "orders", Format: FormatText,
			Data: "😀👍🏽👨‍👩‍👧 🏳️‍🌈", PartitionKey: "🔑"}},
		{name: "everything as JSON", in: Input{Stream: "orders", Format: FormatJSON, Data: nastyData, PartitionKey: `k'"$(x)` + "`y`\\ 😀"}},
		{name: "by ARN with hash key and ordering", in: Input{Stream: arn, Format: FormatJSON, Data: `{"a": "'"}`,
			PartitionKey: "it's", ExplicitHashKey: "340282366920938463463374607431768211455", SequenceNumberForOrdering: "49546986683135544286507457936321625675700192471156785154"}},
		// Text that the form accepts but no shell word can carry (NUL), and
		// JSON that is not UTF-8: the snippets must still write these bytes.
		{name: "text holding NUL", in: Input{Stream: "orders", Format: FormatText, Data: "a\x00b", PartitionKey: "nul"}},
		{name: "bytes that are not UTF-8", in: Input{Stream: "orders", Format: FormatBase64, Data: base64.StdEncoding.EncodeToString([]byte("{\"k\": \"\xff\xfe\xc3\"}")), PartitionKey: "latin1"}},
		// Values the AWS CLI would take for options of its own, were they
		// separate arguments.
		{name: "key and data starting with a dash", in: Input{Stream: "orders", Format: FormatJSON, Data: "-5", PartitionKey: "-k"}},
		{name: "key that is an option", in: Input{Stream: "orders", Format: FormatText, Data: "--data", PartitionKey: "--stream-name"}},
		// A key holding NUL, which no shell argument can carry.
		{name: "key holding NUL", in: Input{Stream: "orders", Format: FormatText, Data: "x", PartitionKey: "nul\x00key"}},
		// Binary data travels as base64.
		{name: "binary", in: Input{Stream: "orders", Format: FormatBase64, Data: base64.StdEncoding.EncodeToString(binary), PartitionKey: `bin'"`}},
		{name: "binary of nasty text", in: Input{Stream: "orders", Format: FormatBase64, Data: base64.StdEncoding.EncodeToString([]byte(nastyData)), PartitionKey: "$(x)"}},
		{name: "binary by ARN", in: Input{Stream: arn, Format: FormatBase64, Data: "AAEC/w==", PartitionKey: "k", ExplicitHashKey: "0"}},
	}
}

// validRecord is what the console would write for the case: the record that
// passed validation, as web's code handler builds it.
func (c snippetCase) validRecord(t *testing.T) Record {
	t.Helper()
	rec, errs := c.in.Validate(DefaultMaxRecordBytes)
	if len(errs) > 0 {
		t.Fatalf("the case is not a valid record: %v", errs)
	}
	return rec
}

// TestSnippetsAWSCLI runs the AWS CLI snippet in a real POSIX shell, with
// `aws` replaced by a function that prints each argument it gets, and checks
// that the arguments are exactly the record's.
func TestSnippetsAWSCLI(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh on PATH: %v", err)
	}
	for _, tc := range snippetCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := tc.validRecord(t)
			snippet := SnippetsFor(rec, tc.in.Format == FormatBase64).AWSCLI

			// The script is a file, as a snippet pasted into one would be:
			// sh -c could not even take a snippet holding NUL.
			dir, work := t.TempDir(), t.TempDir()
			script := "aws() { printf '%s\\0' \"$@\"; }\n" + snippet + "\n"
			file := filepath.Join(dir, "put-record.sh")
			if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, sh, file)
			cmd.Dir = work
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + work}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("sh: %v\nstderr: %s\nscript:\n%s", err, stderr.String(), script)
			}
			if stderr.Len() > 0 {
				t.Errorf("sh wrote to stderr: %s", stderr.String())
			}
			if entries, _ := os.ReadDir(work); len(entries) > 0 {
				t.Errorf("the snippet ran a command: %s appeared\nscript:\n%s", entries[0].Name(), script)
			}

			args := strings.Split(strings.TrimSuffix(stdout.String(), "\x00"), "\x00")
			if len(args) < 2 || args[0] != "kinesis" || args[1] != "put-record" {
				t.Fatalf("aws got %q, want kinesis put-record first\nscript:\n%s", args, script)
			}
			flags := cliFlags(t, args[2:])
			if in, ok := flags["--cli-input-json"]; ok {
				// A key the shell cannot carry goes as JSON.
				if !strings.Contains(rec.PartitionKey, "\x00") || !strings.HasPrefix(snippet, "# ") {
					t.Errorf("--cli-input-json without a NUL in the key, or without saying why:\n%s", snippet)
				}
				var req map[string]string
				if err := json.Unmarshal([]byte(in), &req); err != nil {
					t.Fatalf("--cli-input-json %q: %v", in, err)
				}
				flags = map[string]string{"--stream-name": req["StreamName"], "--partition-key": req["PartitionKey"], "--data": req["Data"],
					"--cli-binary-format": flags["--cli-binary-format"]}
			}

			wantFlag(t, flags, "--stream-name", rec.Stream.Name, rec.Stream.ARN == "")
			wantFlag(t, flags, "--stream-arn", rec.Stream.ARN, rec.Stream.ARN != "")
			wantFlag(t, flags, "--partition-key", rec.PartitionKey, true)
			wantFlag(t, flags, "--explicit-hash-key", rec.ExplicitHashKey, rec.ExplicitHashKey != "")
			wantFlag(t, flags, "--sequence-number-for-ordering", rec.SequenceNumberForOrdering, rec.SequenceNumberForOrdering != "")

			// AWS CLI v2 reads a blob argument as base64 unless told to
			// take it raw; either way the bytes must be the record's.
			raw, ok := flags["--data"]
			if !ok {
				t.Fatalf("no --data: %q", args)
			}
			var got []byte
			switch mode := flags["--cli-binary-format"]; mode {
			case "raw-in-base64-out":
				got = []byte(raw)
			case "base64":
				decoded, derr := base64.StdEncoding.DecodeString(raw)
				if derr != nil {
					t.Fatalf("--data %q is not base64: %v", raw, derr)
				}
				got = decoded
			default:
				t.Fatalf("--cli-binary-format %q", mode)
			}
			if !bytes.Equal(got, rec.Data) {
				t.Errorf("--data carries %q, want %q\nscript:\n%s", got, rec.Data, script)
			}
			if tc.in.Format == FormatBase64 && flags["--cli-binary-format"] != "base64" {
				t.Errorf("binary data sent raw: %q", args)
			}
		})
	}
}

// cliFlags reads arguments as the AWS CLI's parser does: "--name=value", or
// "--name" then its value, which must not start with "-", or the parser
// takes it for an option.
func cliFlags(t *testing.T, args []string) map[string]string {
	t.Helper()
	flags := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, value, ok := strings.Cut(args[i], "=")
		if !strings.HasPrefix(name, "--") {
			t.Fatalf("argument %d %q is not a --flag; all: %q", i, args[i], args)
		}
		if !ok {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
				t.Fatalf("%s has no value the AWS CLI would take as one; all: %q", name, args)
			}
			i++
			value = args[i]
		}
		if _, dup := flags[name]; dup {
			t.Fatalf("flag %s given twice: %q", name, args)
		}
		flags[name] = value
	}
	return flags
}

func wantFlag(t *testing.T, flags map[string]string, name, want string, present bool) {
	t.Helper()
	got, ok := flags[name]
	switch {
	case ok != present:
		t.Errorf("%s present = %v, want %v (flags %q)", name, ok, present, flags)
	case ok && got != want:
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}

// stubBoto3 is a boto3 module whose client writes the put_record arguments,
// Data as base64, to $STUB_OUT as JSON instead of calling AWS.
const stubBoto3 = `import base64, json, os

STUB = True

def client(service, *args, **kwargs):
    if service != "kinesis":
        raise ValueError("unexpected service " + repr(service))
    return _Kinesis()

class _Kinesis:
    def put_record(self, **kw):
        if not isinstance(kw.get("Data"), bytes):
            raise TypeError("Data is %r, not bytes" % type(kw.get("Data")))
        out = dict(kw)
        out["Data"] = base64.b64encode(kw["Data"]).decode("ascii")
        with open(os.environ["STUB_OUT"], "w", encoding="utf-8") as f:
            json.dump(out, f)
        return {"ShardId": "shardId-stub", "SequenceNumber": "4242"}
`

// TestSnippetsBoto3 runs the boto3 snippet with the python3 first on PATH,
// against a stub boto3 that records what put_record was given.
func TestSnippetsBoto3(t *testing.T) {
	python := pythonExecutable(t)
	stubDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(stubDir, "boto3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stubDir, "boto3", "__init__.py"), []byte(stubBoto3), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range snippetCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := tc.validRecord(t)
			snippet := SnippetsFor(rec, tc.in.Format == FormatBase64).Boto3
			if !strings.HasPrefix(snippet, "import boto3\n") {
				t.Fatalf("the snippet does not start with import boto3:\n%s", snippet)
			}
			// Fail loudly if the real boto3 were imported instead of the stub.
			program := strings.Replace(snippet, "import boto3\n", "import boto3\nassert boto3.STUB\n", 1)

			dir := t.TempDir()
			file, out := filepath.Join(dir, "snippet.py"), filepath.Join(dir, "put_record.json")
			if err := os.WriteFile(file, []byte(program), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, file)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PYTHONPATH="+stubDir, "STUB_OUT="+out, "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("python3: %v\nstderr: %s\nsnippet:\n%s", err, stderr.String(), snippet)
			}
			if got := strings.TrimSpace(stdout.String()); got != "shardId-stub 4242" {
				t.Errorf("the snippet printed %q, want the stub's ShardId and SequenceNumber", got)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("put_record was not called: %v", err)
			}
			var kw map[string]string
			if err := json.Unmarshal(b, &kw); err != nil {
				t.Fatalf("stub output %s: %v", b, err)
			}
			data, err := base64.StdEncoding.DecodeString(kw["Data"])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, rec.Data) {
				t.Errorf("Data = %q, want %q\nsnippet:\n%s", data, rec.Data, snippet)
			}
			want := map[string]string{"Data": kw["Data"], "PartitionKey": rec.PartitionKey}
			if rec.Stream.ARN != "" {
				want["StreamARN"] = rec.Stream.ARN
			} else {
				want["StreamName"] = rec.Stream.Name
			}
			if rec.ExplicitHashKey != "" {
				want["ExplicitHashKey"] = rec.ExplicitHashKey
			}
			if rec.SequenceNumberForOrdering != "" {
				want["SequenceNumberForOrdering"] = rec.SequenceNumberForOrdering
			}
			if fmt.Sprint(kw) != fmt.Sprint(want) {
				t.Errorf("put_record(**%q), want %q\nsnippet:\n%s", kw, want, snippet)
			}
		})
	}
}

// pythonExecutable is the interpreter behind the first python3 on PATH.
// A version manager's shim (pyenv) is a shell script that costs about 0.3 s
// a launch; asking the interpreter where it lives once makes each of the
// snippet runs cost a fraction of that, which keeps the package's unit tests
// quick enough to run once per mutant.
func pythonExecutable(t *testing.T) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("no python3 on PATH (the tests need the Python 3 that runs moto): %v", err)
	}
	out, err := exec.Command(python, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatalf("%s: %v", python, err)
	}
	if exe := strings.TrimSpace(string(out)); exe != "" {
		return exe
	}
	return python
}

// TestSnippetsGo parses the Go snippet as the body of a function and checks
// that each string literal unquotes to exactly the record's value.
func TestSnippetsGo(t *testing.T) {
	for _, tc := range snippetCases() {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.validRecord(t)
			binary := tc.in.Format == FormatBase64
			snippet := SnippetsFor(rec, binary).Go
			src := "package p\n\nfunc put() error {\n" + snippet + "\n\treturn nil\n}\n"
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "snippet.go", src, parser.AllErrors)
			if err != nil {
				t.Fatalf("the Go snippet does not parse: %v\n%s", err, src)
			}

			fields := map[string]string{}
			var data []byte
			var dataFound int
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.KeyValueExpr:
					// StreamName: aws.String("..."), and the like.
					key, ok := n.Key.(*ast.Ident)
					if !ok {
						return true
					}
					if call, ok := n.Value.(*ast.CallExpr); ok && isSelector(call.Fun, "aws", "String") {
						fields[key.Name] = unquoteArg(t, call)
					}
				case *ast.AssignStmt:
					// data := []byte("...") or data, err := base64.StdEncoding.DecodeString("...")
					id, ok := n.Lhs[0].(*ast.Ident)
					if !ok || id.Name != "data" || len(n.Rhs) != 1 {
						return true
					}
					call, ok := n.Rhs[0].(*ast.CallExpr)
					if !ok {
						return true
					}
					dataFound++
					lit := unquoteArg(t, call)
					switch {
					case isByteSlice(call.Fun):
						data = []byte(lit)
					case isSelector(call.Fun, "StdEncoding", "DecodeString"):
						data, err = base64.StdEncoding.DecodeString(lit)
						if err != nil {
							t.Fatalf("the snippet's base64 %q: %v", lit, err)
						}
					default:
						t.Fatalf("data is made by an unexpected call in:\n%s", snippet)
					}
				}
				return true
			})
			if dataFound != 1 {
				t.Fatalf("data assigned %d times, want 1:\n%s", dataFound, snippet)
			}
			if !bytes.Equal(data, rec.Data) {
				t.Errorf("data = %q, want %q\n%s", data, rec.Data, snippet)
			}
			want := map[string]string{"PartitionKey": rec.PartitionKey}
			if rec.Stream.ARN != "" {
				want["StreamARN"] = rec.Stream.ARN
			} else {
				want["StreamName"] = rec.Stream.Name
			}
			if rec.ExplicitHashKey != "" {
				want["ExplicitHashKey"] = rec.ExplicitHashKey
			}
			if rec.SequenceNumberForOrdering != "" {
				want["SequenceNumberForOrdering"] = rec.SequenceNumberForOrdering
			}
			if fmt.Sprint(fields) != fmt.Sprint(want) {
				t.Errorf("PutRecordInput fields = %q, want %q\n%s", fields, want, snippet)
			}
		})
	}
}

// unquoteArg returns the only argument of call, a string literal, unquoted.
func unquoteArg(t *testing.T, call *ast.CallExpr) string {
	t.Helper()
	if len(call.Args) != 1 {
		t.Fatalf("call with %d arguments, want 1", len(call.Args))
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Fatalf("argument is not a string literal: %T", call.Args[0])
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatalf("literal %s does not unquote: %v", lit.Value, err)
	}
	return s
}

func isSelector(e ast.Expr, x, sel string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok || s.Sel.Name != sel {
		return false
	}
	switch inner := s.X.(type) {
	case *ast.Ident:
		return inner.Name == x
	case *ast.SelectorExpr:
		return inner.Sel.Name == x
	}
	return false
}

func isByteSlice(e ast.Expr) bool {
	arr, ok := e.(*ast.ArrayType)
	if !ok || arr.Len != nil {
		return false
	}
	id, ok := arr.Elt.(*ast.Ident)
	return ok && id.Name == "byte"
}

// TestSnippetsNeverReadLocalFiles: the AWS CLI reads a --data value starting
// with file:// or fileb:// from disk, so such data travels as base64.
func TestSnippetsNeverReadLocalFiles(t *testing.T) {
	for _, data := range []string{"file:///etc/passwd", "fileb://secret.bin"} {
		rec := Record{Stream: StreamRef{Name: "s"}, Data: []byte(data), PartitionKey: "k"}
		cli := SnippetsFor(rec, false).AWSCLI
		if strings.Contains(cli, "'"+data+"'") || strings.Contains(cli, "raw-in-base64-out") {
			t.Errorf("data %q is passed raw:\n%s", data, cli)
		}
	}
}

// A partition key starting with file:// or fileb:// would be read from disk
// by the AWS CLI, so the command passes the request as --cli-input-json,
// whose values the CLI takes as they are. Run through sh, it hands the CLI
// exactly the record.
func TestSnippetsKeyNeverReadsLocalFiles(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh on PATH: %v", err)
	}
	for _, rec := range []Record{
		{Stream: StreamRef{Name: "s"}, Data: []byte(`{"it's": 1}`), PartitionKey: "file:///etc/passwd"},
		{Stream: StreamRef{Name: "s", ARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/s"}, Data: []byte{0, 1, 2}, PartitionKey: "fileb://key'quote",
			ExplicitHashKey: "42", SequenceNumberForOrdering: "4955"},
	} {
		cli := SnippetsFor(rec, false).AWSCLI
		if strings.Contains(cli, "--partition-key") {
			t.Errorf("key %q passed as --partition-key:\n%s", rec.PartitionKey, cli)
		}
		out, err := exec.Command(sh, "-c", "aws() { printf '%s\\0' \"$@\"; }\n"+cli).Output()
		if err != nil {
			t.Fatalf("sh: %v\n%s", err, cli)
		}
		args := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if len(args) < 2 || args[0] != "kinesis" || args[1] != "put-record" {
			t.Fatalf("aws got %q, want kinesis put-record first", args)
		}
		flags := cliFlags(t, args[2:])
		if len(flags) != 2 || flags["--cli-binary-format"] != "base64" {
			t.Fatalf("aws got %q, want kinesis put-record --cli-binary-format base64 --cli-input-json JSON", args)
		}
		var in map[string]string
		if err := json.Unmarshal([]byte(flags["--cli-input-json"]), &in); err != nil {
			t.Fatalf("--cli-input-json %q: %v", flags["--cli-input-json"], err)
		}
		data, err := base64.StdEncoding.DecodeString(in["Data"])
		if err != nil || !bytes.Equal(data, rec.Data) {
			t.Errorf("Data %q decodes to %q (%v), want %q", in["Data"], data, err, rec.Data)
		}
		want := map[string]string{"PartitionKey": rec.PartitionKey, "StreamName": rec.Stream.Name, "StreamARN": rec.Stream.ARN,
			"ExplicitHashKey": rec.ExplicitHashKey, "SequenceNumberForOrdering": rec.SequenceNumberForOrdering}
		if rec.Stream.ARN != "" {
			want["StreamName"] = ""
		}
		for k, v := range want {
			if in[k] != v {
				t.Errorf("%s = %q, want %q", k, in[k], v)
			}
		}
	}
}
