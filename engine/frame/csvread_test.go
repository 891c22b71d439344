package frame_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

func TestReadCSVInference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		schema string
		want   string
	}{
		{"ints", "a\n1\n-2\n+3\n007\n", "a int", "a\n1\n-2\n3\n7"},
		{"floats", "a\n1\n2.5\n-1e3\n.5\n5.\n", "a float", "a\n1.0\n2.5\n-1000.0\n0.5\n5.0"},
		{"bools any case", "a\ntrue\nFALSE\nTrue\n", "a bool", "a\ntrue\nfalse\ntrue"},
		{"times", "a\n2024-01-02\n2024-01-02T03:04:05Z\n2024-01-02T03:04:05.5+02:00\n", "a time",
			"a\n2024-01-02\n2024-01-02T03:04:05Z\n2024-01-02T01:04:05.5Z"},
		{"int and word", "a\n1\nx\n", "a string", "a\n1\nx"},
		{"int and bool", "a\n1\ntrue\n", "a string", "a\n1\ntrue"},
		{"date and int", "a\n2024-01-02\n3\n", "a string", "a\n2024-01-02\n3"},
		{"spaces keep string", "a\n 3.4 \n2\n\t5\n", "a string", "a\n 3.4 \n2\n\t5"},
		{"leading zeros kept in strings", "a\n007\nx\n", "a string", "a\n007\nx"},
		{"all missing is float", "a,b\n,1\n,2\n", "a float, b int", "a|b\n∅|1\n∅|2"},
		{"header only", "a,b\n", "a string, b string", "a|b"},
		{"beyond int64 is float", "a\n9223372036854775807\n9223372036854775808\n", "a float",
			"a\n9223372036854776000.0\n9223372036854776000.0"},
		{"int64 extremes", "a\n9223372036854775807\n-9223372036854775808\n", "a int",
			"a\n9223372036854775807\n-9223372036854775808"},
		{"inf is float", "a\n1\ninf\n-Infinity\n", "a float", "a\n1.0\n+Inf\n-Inf"},
		{"hex is string", "a\n0x10\n", "a string", "a\n0x10"},
		{"underscore is string", "a\n1_000\n", "a string", "a\n1_000"},
		{"null tokens", "a\nNA\n1\nnull\nN/A\nNULL\nnan\nNaN\n", "a int", "a\n∅\n1\n∅\n∅\n∅\n∅\n∅"},
		{"quoted number", "a\n\"1\"\n2\n", "a int", "a\n1\n2"},
		{"quoted empty is a string", "a,b\n\"\",1\n,2\n", "a string, b int", "a|b\n|1\n∅|2"},
		{"quoted NA is a string", "a\n\"NA\"\nNA\n", "a string", "a\nNA\n∅"},
		{"ints then floats", "a\n1\n2\n3.5\n", "a float", "a\n1.0\n2.0\n3.5"},
		{"floats then word", "a\n1.5\n2\nabc\n", "a string", "a\n1.5\n2\nabc"},
		{"exponent", "a\n1e5\n2E-3\n-1.5e+2\n", "a float", "a\n100000.0\n0.002\n-150.0"},
		{"long mantissa", "a\n3.14159265358979323846264338327950288\n0.1000000000000000055511151231257827\n", "a float",
			"a\n3.141592653589793\n0.1"},
		{"tiny and huge", "a\n1e-300\n1e300\n", "a float", "a\n1e-300\n1e+300"},
		{"negative zero int", "a\n-0\n1\n", "a int", "a\n0\n1"},
		{"negative zero float keeps sign", "a\n-0\n1.5\n", "a float", "a\n-0.0\n1.5"},
		{"empty header name", "a,,c\n1,2,3\n", "a int, column_2 int, c int", "a|column_2|c\n1|2|3"},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				f, err := frame.ReadCSV(rd.wrap(tt.in), frame.ReadOptions{})
				if err != nil {
					t.Fatalf("ReadCSV: %v", err)
				}
				if got := f.Schema().String(); got != tt.schema {
					t.Errorf("schema: got %q, want %q", got, tt.schema)
				}
				if got := table(f); got != tt.want {
					t.Errorf("values: got\n%s\nwant\n%s", got, tt.want)
				}
			})
		}
	}
}

func TestReadCSVFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts frame.ReadOptions
		want string
	}{
		{"quoted comma and quote", "a,b\n\"x,y\",\"he said \"\"hi\"\"\"\n", frame.ReadOptions{}, "a|b\nx,y|he said \"hi\""},
		{"newline in quotes", "a,b\n\"multi\nline\",2\n3,4\n", frame.ReadOptions{}, "a|b\nmulti\nline|2\n3|4"},
		{"CRLF in quotes kept", "a,b\r\n\"x\r\ny\",1\r\n", frame.ReadOptions{}, "a|b\nx\r\ny|1"},
		{"BOM", "\xEF\xBB\xBFa,b\n1,2\n", frame.ReadOptions{}, "a|b\n1|2"},
		{"CRLF", "a,b\r\n1,x\r\n3,y\r\n", frame.ReadOptions{}, "a|b\n1|x\n3|y"},
		{"CRLF missing last field", "a,b\r\n1,\r\n", frame.ReadOptions{}, "a|b\n1|∅"},
		{"no final newline", "a,b\n1,2", frame.ReadOptions{}, "a|b\n1|2"},
		{"no final newline quoted", "a,b\n1,\"2\"", frame.ReadOptions{}, "a|b\n1|2"},
		{"blank lines skipped", "\n\na,b\n1,2\n\n3,4\r\n\r\n", frame.ReadOptions{}, "a|b\n1|2\n3|4"},
		{"one column blank line is missing", "a\n1\n\n2\n", frame.ReadOptions{}, "a\n1\n∅\n2"},
		{"carriage return inside field", "a,b\nx\ry,1\n", frame.ReadOptions{}, "a|b\nx\ry|1"},
		{"semicolon", "a;b\n1,5;x\n", frame.ReadOptions{Delimiter: ';'}, "a|b\n1,5|x"},
		{"tab", "a\tb\n1\t2\n", frame.ReadOptions{Delimiter: '\t'}, "a|b\n1|2"},
		{"custom nulls", "a,b\n-,1\n2,\nNA,3\n", frame.ReadOptions{NullValues: []string{"-"}}, "a|b\n∅|1\n2|∅\nNA|3"},
		{"quoted header", "\"a,1\",\"b\"\"\"\n1,2\n", frame.ReadOptions{}, "a,1|b\"\n1|2"},
		{"unicode", "名前,值\n東京,1\n", frame.ReadOptions{}, "名前|值\n東京|1"},
		{"schema forces string", "a,b\n007,1\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.String}}, "a|b\n007|1"},
		{"schema forces float", "a\n1\n2\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.Float}}, "a\n1.0\n2.0"},
		{"schema forces int", "a\n1\n\n2\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.Int}}, "a\n1\n∅\n2"},
		{"schema forces bool", "a\nTRUE\nfalse\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.Bool}}, "a\ntrue\nfalse"},
		{"schema forces time", "a\n2020-05-06\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.Time}}, "a\n2020-05-06"},
		{"dates and bools at record ends", "a,b\r\n2024-02-29,TRUE\r\n1999-12-31,False\r\n2000-01-01,true", frame.ReadOptions{},
			"a|b\n2024-02-29|true\n1999-12-31|false\n2000-01-01|true"},
		{"date then longer text is string", "a,b\n2024-01-02,1\n2024-01-03x,2\n", frame.ReadOptions{}, "a|b\n2024-01-02|1\n2024-01-03x|2"},
		{"bool then longer text is string", "a\ntrue\ntruer\nfalse\n", frame.ReadOptions{}, "a\ntrue\ntruer\nfalse"},
		{"impossible date is string", "a\n2023-02-28\n2023-02-29\n", frame.ReadOptions{}, "a\n2023-02-28\n2023-02-29"},
		{"null values that look like dates and bools", "a,b,c\n2024-01-01,false,x\n2024-01-02,true,none\n", frame.ReadOptions{NullValues: []string{"2024-01-02", "true", "none"}},
			"a|b|c\n2024-01-01|false|x\n∅|∅|∅"},
		{"strings up to and past 16 bytes", "a\nabcdefghijklmnopq\nabcdefghijklmnop\nabc\nabcdefghijklmnopq\nabcdefghijklmnop\nab\n", frame.ReadOptions{},
			"a\nabcdefghijklmnopq\nabcdefghijklmnop\nabc\nabcdefghijklmnopq\nabcdefghijklmnop\nab"},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				f, err := frame.ReadCSV(rd.wrap(tt.in), tt.opts)
				if err != nil {
					t.Fatalf("ReadCSV: %v", err)
				}
				if got := table(f); got != tt.want {
					t.Errorf("got\n%q\nwant\n%q", got, tt.want)
				}
			})
		}
	}
}

func TestReadCSVSchemaTypes(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "a,b,c\n1,2,x\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.Float, "c": frame.String}})
	if got, want := f.Schema().String(), "a float, b int, c string"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err := frame.ReadCSV(strings.NewReader("a\n1\n"), frame.ReadOptions{Schema: map[string]frame.Type{"zz": frame.Int}})
	if !errors.Is(err, frame.ErrNoColumn) {
		t.Errorf("unknown schema column: got %v, want ErrNoColumn", err)
	}
}

func TestReadCSVMissing(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "x,s,b\n1.5,a,true\n,,\nNaN,NA,null\n2,b,false\n", frame.ReadOptions{})
	for _, name := range []string{"x", "s", "b"} {
		c, _ := f.ColByName(name)
		if got := c.NullCount(); got != 2 {
			t.Errorf("%s: NullCount got %d, want 2", name, got)
		}
		for i, want := range []bool{false, true, true, false} {
			if got := c.IsNull(i); got != want {
				t.Errorf("%s: IsNull(%d) got %v, want %v", name, i, got, want)
			}
		}
	}
	x, _ := f.ColByName("x")
	if v, ok := x.Float(1); ok || v == v {
		t.Errorf("x.Float(1): got %v, %v; want NaN, false", v, ok)
	}
	s, _ := f.ColByName("s")
	if s.Codes[1] != -1 || s.Value(1) != nil || s.Str(1) != "" {
		t.Errorf("missing string: code %d value %v str %q", s.Codes[1], s.Value(1), s.Str(1))
	}
	full := mustRead(t, "a\n1\n2\n", frame.ReadOptions{})
	if full.Col(0).NullBits() != nil {
		t.Errorf("column without missing values has a bitset")
	}
}

func TestReadCSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts frame.ReadOptions
		want string
		is   error
	}{
		{"too few fields", "a,b,c\n1,2\n", frame.ReadOptions{}, "data.csv:2:4: wrong number of fields: got 2, want 3", frame.ErrFieldCount},
		{"too many fields", "a,b\n1,2,3\n", frame.ReadOptions{}, "data.csv:2:5: wrong number of fields: got 3, want 2", frame.ErrFieldCount},
		{"too many fields, characters not bytes", "a,b\né,ü,x,y\n", frame.ReadOptions{}, "data.csv:2:5: wrong number of fields: got 4, want 2", frame.ErrFieldCount},
		{"too few at end without newline", "a,b\n1,2\n3", frame.ReadOptions{}, "data.csv:3:2: wrong number of fields: got 1, want 2", frame.ErrFieldCount},
		{"after multi-line field", "a,b\n\"x\ny\",1\n1,2,3\n", frame.ReadOptions{}, "data.csv:4:5: wrong number of fields: got 3, want 2", frame.ErrFieldCount},
		{"unterminated quote", "a,b\n1,\"abc\n2,3\n", frame.ReadOptions{}, "data.csv:2:3: bad quoting: unterminated quoted field", frame.ErrQuote},
		{"bare quote", "a,b\n1,ab\"c\n", frame.ReadOptions{}, "data.csv:2:5: bad quoting: bare \" in unquoted field", frame.ErrQuote},
		{"text after closing quote", "a,b\n1,\"ab\"c\n", frame.ReadOptions{}, "data.csv:2:7: bad quoting: extraneous character after closing quote", frame.ErrQuote},
		{"bare quote in header", "a,b\"\n", frame.ReadOptions{}, "data.csv:1:4: bad quoting: bare \" in unquoted field", frame.ErrQuote},
		{"invalid UTF-8", "a,b\n1,x\xffy\n", frame.ReadOptions{}, "data.csv:2:4: invalid UTF-8", frame.ErrUTF8},
		{"invalid UTF-8 in header", "a,\xfe\n", frame.ReadOptions{}, "data.csv:1:3: invalid UTF-8", frame.ErrUTF8},
		{"empty input", "", frame.ReadOptions{}, "data.csv:1:1: missing header row", frame.ErrNoHeader},
		{"only blank lines", "\n\r\n\n", frame.ReadOptions{}, "data.csv:1:1: missing header row", frame.ErrNoHeader},
		{"duplicate name", "a,b,a\n1,2,3\n", frame.ReadOptions{}, "data.csv:1:5: duplicate column name \"a\"", frame.ErrDuplicateName},
		{"schema int", "a,b\n1,2\n3,x\n", frame.ReadOptions{Schema: map[string]frame.Type{"b": frame.Int}},
			"data.csv:3:3: bad value: column \"b\": cannot parse \"x\" as int", frame.ErrBadValue},
		{"schema int given float", "a,b\n1,2\n3,4.5\n", frame.ReadOptions{Schema: map[string]frame.Type{"b": frame.Int}},
			"data.csv:3:3: bad value: column \"b\": cannot parse \"4.5\" as int", frame.ErrBadValue},
		{"schema float with spaces", "a\n 1.5\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.Float}},
			"data.csv:2:1: bad value: column \"a\": cannot parse \" 1.5\" as float", frame.ErrBadValue},
		{"schema bool", "a\nyes\n", frame.ReadOptions{Schema: map[string]frame.Type{"a": frame.Bool}},
			"data.csv:2:1: bad value: column \"a\": cannot parse \"yes\" as bool", frame.ErrBadValue},
		{"schema time quoted", "a,b\n1,\"May 5\"\n", frame.ReadOptions{Schema: map[string]frame.Type{"b": frame.Time}},
			"data.csv:2:3: bad value: column \"b\": cannot parse \"May 5\" as time", frame.ErrBadValue},
		{"no name", "a\n1,2\n", frame.ReadOptions{Name: ""}, "2:3: wrong number of fields: got 2, want 1", frame.ErrFieldCount},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				opts := tt.opts
				if tt.name != "no name" {
					opts.Name = "data.csv"
				}
				_, err := frame.ReadCSV(rd.wrap(tt.in), opts)
				if err == nil {
					t.Fatalf("got no error, want %q", tt.want)
				}
				if got := err.Error(); got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				var pe *frame.ParseError
				if !errors.As(err, &pe) {
					t.Errorf("got %T, want *ParseError", err)
				}
				if !errors.Is(err, tt.is) {
					t.Errorf("errors.Is(err, %v) = false", tt.is)
				}
			})
		}
	}
}

func TestReadCSVBadOptions(t *testing.T) {
	t.Parallel()
	for _, d := range []rune{'"', '\n', '\r', 'é'} {
		if _, err := frame.ReadCSV(strings.NewReader("a\n1\n"), frame.ReadOptions{Delimiter: d}); err == nil {
			t.Errorf("delimiter %q: got no error", d)
		}
	}
}

// TestReadCSVDictionary checks that each distinct string gets one code,
// in order of first appearance, for texts of every length the field hash
// treats differently (1–3, 4–7, 8–16 and over 16 bytes).
func TestReadCSVDictionary(t *testing.T) {
	t.Parallel()
	words := []string{"a", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghijklmnop", "abcdefghijklmnopq", "b", "bbcd", "abcdefgi"}
	var in strings.Builder
	in.WriteString("w\n")
	for rep := 0; rep < 3; rep++ {
		for _, w := range words {
			in.WriteString(w + "\n")
		}
	}
	f := mustRead(t, in.String(), frame.ReadOptions{})
	c := f.Col(0)
	if strings.Join(c.Dict, ",") != strings.Join(words, ",") {
		t.Fatalf("dictionary: got %q, want %q", c.Dict, words)
	}
	for i, code := range c.Codes {
		if int(code) != i%len(words) {
			t.Fatalf("row %d: code %d, want %d", i, code, i%len(words))
		}
	}
}
