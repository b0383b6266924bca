package bulk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// fieldText finds a string or number at a path of names in a JSON value and
// returns it as text: a string's characters, a number exactly as written.
// Array elements are reached by index ("items.0.id"). It scans the record
// instead of decoding it: keying a big upload by a field must stay cheap.
func fieldText(data []byte, names []string) (string, string) {
	raw := data
	for _, name := range names {
		v, ok := jsonMember(raw, name)
		if !ok {
			return "", fmt.Sprintf("the record has no field %s.", strings.Join(names, "."))
		}
		raw = v
	}
	switch {
	case len(raw) > 0 && raw[0] == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), ""
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "the record is not valid JSON."
		}
		return s, ""
	case len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')):
		return string(raw), ""
	}
	return "", fmt.Sprintf("field %s is %s; it must be a string or a number.", strings.Join(names, "."), jsonKind(raw))
}

// jsonMember returns the value of an object's member (the last one, as
// encoding/json would), or an array's element by index, from valid JSON.
func jsonMember(data []byte, name string) ([]byte, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || (data[i] != '{' && data[i] != '[') {
		return nil, false
	}
	isObject := data[i] == '{'
	index := -1
	if !isObject {
		n, err := strconv.Atoi(name)
		if err != nil || n < 0 {
			return nil, false
		}
		index = n
	}
	var found []byte
	for n := 0; ; n++ {
		i = skipSpace(data, i+1) // past '{', '[' or ','
		if i >= len(data) || data[i] == '}' || data[i] == ']' {
			return found, found != nil
		}
		match := n == index
		if isObject {
			end := skipString(data, i)
			if end > len(data) {
				return nil, false
			}
			key := data[i+1 : end-1]
			if bytes.IndexByte(key, '\\') < 0 {
				match = string(key) == name
			} else {
				var k string
				match = json.Unmarshal(data[i:end], &k) == nil && k == name
			}
			i = skipSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return nil, false
			}
			i = skipSpace(data, i+1)
		}
		end := skipValue(data, i)
		if end > len(data) || end == i {
			return nil, false
		}
		if match {
			found = data[i:end]
			if !isObject {
				return found, true
			}
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ',' {
			return found, found != nil
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at i.
func skipString(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return len(data) + 1
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(data) + 1
}

// skipValue returns the index just past the value that starts at i.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return len(data) + 1
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				j = skipString(data, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(data) + 1
	}
	j := i
	for j < len(data) && !isJSONSpace(data[j]) && data[j] != ',' && data[j] != '}' && data[j] != ']' {
		j++
	}
	return j
}

func jsonKind(raw []byte) string {
	switch {
	case len(raw) == 0:
		return "empty"
	case raw[0] == '{':
		return "an object"
	case raw[0] == '[':
		return "an array"
	case raw[0] == 'n':
		return "null"
	}
	return "a boolean"
}
