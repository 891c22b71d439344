package frame_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine/frame"
)

func TestType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ  frame.Type
		num  uint8
		name string
	}{
		{frame.Float, 1, "float"}, {frame.Int, 2, "int"}, {frame.Bool, 3, "bool"}, {frame.String, 4, "string"}, {frame.Time, 5, "time"},
	}
	for _, tt := range tests {
		if uint8(tt.typ) != tt.num {
			t.Errorf("%s: got number %d, want %d", tt.name, uint8(tt.typ), tt.num)
		}
		if got := tt.typ.String(); got != tt.name {
			t.Errorf("String: got %q, want %q", got, tt.name)
		}
		got, err := frame.ParseType(" " + strings.ToUpper(tt.name) + " ")
		if err != nil || got != tt.typ {
			t.Errorf("ParseType(%q): got %v, %v", tt.name, got, err)
		}
	}
	if _, err := frame.ParseType("decimal"); err == nil {
		t.Errorf("ParseType(decimal): got no error")
	}
	if got := frame.Type(9).String(); got != "type(9)" {
		t.Errorf("unknown type: got %q", got)
	}
	b, err := json.Marshal(frame.Schema{{Name: "a", Type: frame.Int}})
	if err != nil || string(b) != `[{"name":"a","type":"int"}]` {
		t.Errorf("schema JSON: got %s, %v", b, err)
	}
	var s frame.Schema
	if err := json.Unmarshal(b, &s); err != nil || s[0].Type != frame.Int {
		t.Errorf("schema JSON back: got %v, %v", s, err)
	}
	if s.Index("a") != 0 || s.Index("b") != -1 || strings.Join(s.Names(), ",") != "a" || s.String() != "a int" {
		t.Errorf("schema methods: %v", s)
	}
}

func TestBuilder(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	tests := []struct {
		typ  frame.Type
		vals []any
		want string
	}{
		{frame.Float, []any{1.5, 2, nil, float32(0.5), math.NaN()}, "1.5,2.0,∅,0.5,∅"},
		{frame.Int, []any{int8(-1), uint16(7), nil, 3.0}, "-1,7,∅,3"},
		{frame.Bool, []any{true, nil, false}, "true,∅,false"},
		{frame.String, []any{"x", 1, 2.5, true, nil, when}, "x,1,2.5,true,∅,2024-02-03T04:05:06Z"},
		{frame.Time, []any{when, nil}, "2024-02-03T04:05:06Z,∅"},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			b := frame.NewBuilder("c", tt.typ, 0)
			for _, v := range tt.vals {
				if err := b.Append(v); err != nil {
					t.Fatalf("Append(%v): %v", v, err)
				}
			}
			if b.Len() != len(tt.vals) {
				t.Errorf("Len: got %d, want %d", b.Len(), len(tt.vals))
			}
			c := b.Build()
			f := mustNew(t, c)
			var got []string
			for i := 0; i < c.Len(); i++ {
				if c.IsNull(i) {
					got = append(got, "∅")
				} else {
					got = append(got, c.Str(i))
				}
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("got %s, want %s", strings.Join(got, ","), tt.want)
			}
			_ = f
		})
	}
	b := frame.NewBuilder("c", frame.Int, 0)
	if err := b.Append("x"); err == nil {
		t.Errorf("Append string to int: got no error")
	}
	if err := b.Append(1.5); err == nil {
		t.Errorf("Append 1.5 to int: got no error")
	}
	if err := b.AppendText("12"); err != nil {
		t.Errorf("AppendText: %v", err)
	}
	if err := b.AppendText("1.2"); err == nil {
		t.Errorf("AppendText 1.2 to int: got no error")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("AppendFloat on int builder did not panic")
			}
		}()
		b.AppendFloat(1)
	}()
	// Many values with a missing one late: the bitset must cover them all.
	b = frame.NewBuilder("c", frame.Float, 0)
	for i := 0; i < 200; i++ {
		b.AppendFloat(float64(i))
	}
	b.AppendNull()
	b.AppendFloat(1)
	c := b.Build()
	if c.NullCount() != 1 || !c.IsNull(200) || c.IsNull(201) || len(c.NullBits()) != 4 {
		t.Errorf("late null: count %d, bits %d", c.NullCount(), len(c.NullBits()))
	}
}

func TestColumnViews(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "f,i,b,s,t\n1.5,2,true,x,1970-01-02\n", frame.ReadOptions{})
	want := []struct {
		v  float64
		ok bool
	}{{1.5, true}, {2, true}, {1, true}, {0, false}, {86400, true}}
	for j, w := range want {
		v, ok := f.Col(j).Float(0)
		if ok != w.ok || (ok && v != w.v) {
			t.Errorf("%s: Float got %v, %v, want %v, %v", f.Col(j).Name, v, ok, w.v, w.ok)
		}
	}
	row := f.Row(0)
	if row[0] != 1.5 || row[1] != int64(2) || row[2] != true || row[3] != "x" || !row[4].(time.Time).Equal(time.Unix(86400, 0)) {
		t.Errorf("Row: got %v", row)
	}
	if h := f.Head(5); len(h) != 1 || strings.Join(h[0], ",") != "1.5,2,true,x,1970-01-02" {
		t.Errorf("Head: got %v", h)
	}
}
