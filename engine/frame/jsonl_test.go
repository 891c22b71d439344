package frame_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

func TestReadJSONL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		opts   frame.ReadOptions
		schema string
		want   string
	}{
		{"types and key union", `{"a":1,"b":"x","c":true}
{"b":"y","a":2.5,"d":null}

{"c":false,"e":"2024-01-02"}
`, frame.ReadOptions{}, "a float, b string, c bool, d float, e time",
			"a|b|c|d|e\n1.0|x|true|∅|∅\n2.5|y|∅|∅|∅\n∅|∅|false|∅|2024-01-02"},
		{"mixed become strings", `{"a":1,"b":[1,{"x":"]"}]}
{"a":"one","b":{"k":2}}
{"a":true}`, frame.ReadOptions{}, "a string, b string",
			"a|b\n1|[1,{\"x\":\"]\"}]\none|{\"k\":2}\ntrue|∅"},
		{"escapes", `{"s":"tab\there \"q\" \\ \u00e9 \ud83d\ude00 \n"}`, frame.ReadOptions{}, "s string",
			"s\ntab\there \"q\" \\ é 😀 \n"},
		{"big ints and exponents", `{"a":9223372036854775807,"b":1e3}
{"a":-9223372036854775808,"b":2}`, frame.ReadOptions{}, "a int, b float",
			"a|b\n9223372036854775807|1000.0\n-9223372036854775808|2.0"},
		{"NaN and Infinity", `{"a":NaN}
{"a":-Infinity}`, frame.ReadOptions{}, "a float", "a\n∅\n-Inf"},
		{"whitespace and CRLF", "  { \"a\" : 1 , \"b\" : \"x\" }  \r\n{\"a\":2}\r\n", frame.ReadOptions{}, "a int, b string",
			"a|b\n1|x\n2|∅"},
		{"repeated key, last wins", `{"a":1,"a":2}`, frame.ReadOptions{}, "a int", "a\n2"},
		{"empty object", "{}\n{\"a\":1}\n", frame.ReadOptions{}, "a int", "a\n∅\n1"},
		{"schema", `{"a":1,"b":"2","c":"true","d":3}`, frame.ReadOptions{Schema: map[string]frame.Type{
			"a": frame.Float, "b": frame.Int, "c": frame.Bool, "d": frame.String}}, "a float, b int, c bool, d string",
			"a|b|c|d\n1.0|2|true|3"},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				f, err := frame.ReadJSONL(rd.wrap(tt.in), tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := f.Schema().String(); got != tt.schema {
					t.Errorf("schema: got %q, want %q", got, tt.schema)
				}
				if got := table(f); got != tt.want {
					t.Errorf("got\n%q\nwant\n%q", got, tt.want)
				}
			})
		}
	}
}

func TestReadJSONLBlocks(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 0; i < 500; i++ {
		if i%3 == 0 {
			b.WriteString(`{"i":` + strings.Repeat("1", 1+i%5) + `,"s":"x\"y"}` + "\n")
		} else {
			b.WriteString(`{"s":"é","f":0.5,"i":2}` + "\n")
		}
	}
	ref, err := frame.ReadJSONL(strings.NewReader(b.String()), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bs := range []int{1, 50, 1000} {
		opts := frame.ReadOptions{Workers: 3}
		frame.SetBlockSize(&opts, bs)
		got, err := frame.ReadJSONL(plainReader{strings.NewReader(b.String())}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameValues(ref, got); err != nil {
			t.Errorf("block %d: %v", bs, err)
		}
	}
	if got := ref.Schema().String(); got != "i int, s string, f float" {
		t.Errorf("schema: got %q", got)
	}
}

func TestReadJSONLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts frame.ReadOptions
		want string
		is   error
	}{
		{"not an object", "{\"a\":1}\n[1,2]\n", frame.ReadOptions{}, "f.jsonl:2:1: bad JSON: line is not a JSON object", frame.ErrJSON},
		{"missing colon", "{\"a\" 1}\n", frame.ReadOptions{}, "f.jsonl:1:6: bad JSON: expected ':'", frame.ErrJSON},
		{"trailing comma", "{\"a\":1,}\n", frame.ReadOptions{}, "f.jsonl:1:8: bad JSON: expected a string key", frame.ErrJSON},
		{"unterminated string", "\n{\"é\":\"abc}\n", frame.ReadOptions{}, "f.jsonl:2:6: bad JSON: unterminated string", frame.ErrJSON},
		{"two objects", "{\"a\":1}{\"a\":2}\n", frame.ReadOptions{}, "f.jsonl:1:8: bad JSON: text after the object", frame.ErrJSON},
		{"bad literal", "{\"a\":tru}\n", frame.ReadOptions{}, "f.jsonl:1:6: bad JSON: unexpected character 't'", frame.ErrJSON},
		{"invalid UTF-8", "{\"a\":\"x\xff\"}\n", frame.ReadOptions{}, "f.jsonl:1:8: invalid UTF-8", frame.ErrUTF8},
		{"schema", "{\"a\":1}\n{\"a\":\"x\"}\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.Int}},
			"f.jsonl:2:6: bad value: column \"a\": cannot convert \"x\" to int", frame.ErrBadValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Name = "f.jsonl"
			_, err := frame.ReadJSONL(strings.NewReader(tt.in), opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) false", tt.is)
			}
		})
	}
}
