package web

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// fill sets every field v reaches to a value of its own, not zero: strings
// with what JSON must escape, pointers to filled values, slices of two.
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("<b>\"&'\\\u2028\x00 é %d\n", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				t.Fatalf("%s.%s is unexported: a submission's answer travels between replicas as JSON, which drops it",
					v.Type(), v.Type().Field(i).Name)
			}
			fill(t, v.Field(i), n)
		}
	default:
		t.Fatalf("a submission's answer holds a %s (%s): make sure it survives JSON between replicas, then teach fill it", v.Kind(), v.Type())
	}
}

// A submission's answer goes from the replica that made the put to the one
// a repeat reaches as JSON: every field of it, filled, comes back equal,
// so the repeat shows the same page.
func TestSubmissionAnswerRoundTrips(t *testing.T) {
	var a submissionAnswer
	n := 0
	fill(t, reflect.ValueOf(&a).Elem(), &n)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got submissionAnswer
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("the answer changed on its way through JSON:\n got %+v\nwant %+v", got, a)
	}
}
