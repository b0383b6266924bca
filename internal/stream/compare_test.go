package stream

import "testing"

// TestCompare pins every field of the difference the read-back shows a
// person: a wrong "identical" here is the console vouching for bytes the
// stream does not hold.
func TestCompare(t *testing.T) {
	tests := []struct {
		name      string
		sent, got []byte
		want      Difference
		wantText  string
	}{
		{
			name: "identical",
			sent: []byte(`{"a":1}`), got: []byte(`{"a":1}`),
			want:     Difference{Same: true, SentLen: 7, GotLen: 7},
			wantText: "identical: 7 bytes",
		},
		{
			name: "both empty",
			sent: []byte{}, got: nil,
			want:     Difference{Same: true},
			wantText: "identical: 0 bytes",
		},
		{
			name: "one byte differs in the middle",
			sent: []byte("hello"), got: []byte("hallo"),
			want:     Difference{SentLen: 5, GotLen: 5, Offset: 1, SentAround: "68656c6c6f", GotAround: "68616c6c6f"},
			wantText: "differs at byte 1: sent 5 bytes, read 5 bytes",
		},
		{
			name: "first byte differs",
			sent: []byte("abc"), got: []byte("xbc"),
			want:     Difference{SentLen: 3, GotLen: 3, Offset: 0, SentAround: "616263", GotAround: "786263"},
			wantText: "differs at byte 0: sent 3 bytes, read 3 bytes",
		},
		{
			name: "last byte differs",
			sent: []byte("abc"), got: []byte("abd"),
			want:     Difference{SentLen: 3, GotLen: 3, Offset: 2, SentAround: "616263", GotAround: "616264"},
			wantText: "differs at byte 2: sent 3 bytes, read 3 bytes",
		},
		{
			name: "one bit differs",
			sent: []byte{0x00, 0x01}, got: []byte{0x00, 0x03},
			want:     Difference{SentLen: 2, GotLen: 2, Offset: 1, SentAround: "0001", GotAround: "0003"},
			wantText: "differs at byte 1: sent 2 bytes, read 2 bytes",
		},
		{
			name: "sent empty, read one byte",
			sent: nil, got: []byte("a"),
			want:     Difference{SentLen: 0, GotLen: 1, Offset: 0, SentAround: "(end of data)", GotAround: "61"},
			wantText: "differs at byte 0: sent 0 bytes, read 1 bytes",
		},
		{
			name: "sent one byte, read empty",
			sent: []byte("a"), got: []byte{},
			want:     Difference{SentLen: 1, GotLen: 0, Offset: 0, SentAround: "61", GotAround: "(end of data)"},
			wantText: "differs at byte 0: sent 1 bytes, read 0 bytes",
		},
		{
			name: "read is cut short",
			sent: []byte("abcd"), got: []byte("ab"),
			want:     Difference{SentLen: 4, GotLen: 2, Offset: 2, SentAround: "61626364", GotAround: "6162"},
			wantText: "differs at byte 2: sent 4 bytes, read 2 bytes",
		},
		{
			name: "read has bytes appended",
			sent: []byte("ab"), got: []byte("abcd"),
			want:     Difference{SentLen: 2, GotLen: 4, Offset: 2, SentAround: "6162", GotAround: "61626364"},
			wantText: "differs at byte 2: sent 2 bytes, read 4 bytes",
		},
		{
			// The window is 8 bytes either side: bytes 11 to 26 of 32.
			name: "window around a difference deep in long data",
			sent: []byte("0123456789abcdefghijklmnopqrstuv"),
			got:  []byte("0123456789abcdefghiJklmnopqrstuv"),
			want: Difference{SentLen: 32, GotLen: 32, Offset: 19,
				SentAround: "62636465666768696a6b6c6d6e6f7071",
				GotAround:  "62636465666768694a6b6c6d6e6f7071"},
			wantText: "differs at byte 19: sent 32 bytes, read 32 bytes",
		},
		{
			// Exactly 8 bytes before and 8 from the difference: bytes 0 to 15.
			name: "window starts at the first byte",
			sent: []byte("0123456789abcdefXYZ"),
			got:  []byte("01234567#9abcdefXYZ"),
			want: Difference{SentLen: 19, GotLen: 19, Offset: 8,
				SentAround: "30313233343536373839616263646566",
				GotAround:  "30313233343536372339616263646566"},
			wantText: "differs at byte 8: sent 19 bytes, read 19 bytes",
		},
		{
			// Only the first difference counts, however many follow.
			name: "two differences report the first",
			sent: []byte("aaaa"), got: []byte("abab"),
			want:     Difference{SentLen: 4, GotLen: 4, Offset: 1, SentAround: "61616161", GotAround: "61626162"},
			wantText: "differs at byte 1: sent 4 bytes, read 4 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.sent, tt.got)
			if got != tt.want {
				t.Errorf("Compare(%q, %q)\n got %#v\nwant %#v", tt.sent, tt.got, got, tt.want)
			}
			if s := got.String(); s != tt.wantText {
				t.Errorf("String() = %q, want %q", s, tt.wantText)
			}
		})
	}
}

// TestAround pins the hex window on its own, at the edges of the data.
func TestAround(t *testing.T) {
	b := []byte("0123456789abcdefghij") // 20 bytes
	tests := []struct {
		i    int
		want string
	}{
		{0, "3031323334353637"},                 // bytes 0-7
		{1, "303132333435363738"},               // bytes 0-8
		{8, "30313233343536373839616263646566"}, // bytes 0-15
		{9, "31323334353637383961626364656667"}, // bytes 1-16
		{19, "62636465666768696a"},              // bytes 11-19
		{20, "636465666768696a"},                // bytes 12-19
		{27, "6a"},                              // byte 19 alone
		{28, "(end of data)"},
	}
	for _, tt := range tests {
		if got := around(b, tt.i); got != tt.want {
			t.Errorf("around(%q, %d) = %q, want %q", b, tt.i, got, tt.want)
		}
	}
}
