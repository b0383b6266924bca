package decode_test

import (
	"bytes"
	"compress/gzip"
	"fmt"

	"github.com/kinesis-console/kinesis-console/internal/decode"
)

// A KPL aggregate of two user records, one of them gzip-compressed JSON,
// decoded and filtered the way the stream viewer does it.
func ExampleDecode() {
	var packed bytes.Buffer
	zw := gzip.NewWriter(&packed)
	zw.Write([]byte(`{"status":"shipped","user":{"id":42}}`))
	zw.Close()
	data := decode.EncodeKPL([]decode.KPLRecord{
		{PartitionKey: "order-1", Data: []byte("hello <b>world</b>")},
		{PartitionKey: "order-2", Data: packed.Bytes()},
	})

	records := decode.Decode(data, decode.Options{})
	fmt.Println("aggregate:", decode.OuterFormats(records))
	filter, err := decode.ParseFilter("user.id=42")
	if err != nil {
		panic(err)
	}
	for _, r := range records {
		fmt.Printf("#%d key=%s data-format=%q match=%v\n%s\n", r.SubSequenceNumber, r.PartitionKey, r.FormatAttr(), filter.Match("outer-key", r), r.Text)
	}
	// Output:
	// aggregate: [kpl]
	// #0 key=order-1 data-format="kpl text" match=false
	// hello <b>world</b>
	// #1 key=order-2 data-format="kpl gzip json" match=true
	// {
	//   "status": "shipped",
	//   "user": {
	//     "id": 42
	//   }
	// }
}

// A record that looks like a KPL aggregate but fails its MD5 check is shown
// as the binary it is, with the reason.
func ExampleDecode_malformed() {
	data := decode.EncodeKPL([]decode.KPLRecord{{PartitionKey: "k", Data: []byte("x")}})
	data[len(data)-1] ^= 0xff
	r := decode.Decode(data, decode.Options{})[0]
	fmt.Println(r.Formats, r.Notes)
	// Output:
	// [binary] [not decoded as a KPL aggregate: MD5 mismatch; shown raw]
}
