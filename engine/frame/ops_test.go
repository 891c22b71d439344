package frame_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine/frame"
)

func people(t *testing.T) *frame.Frame {
	return mustRead(t, `name,age,score,member,joined
ann,31,1.5,true,2020-01-02
bob,,2.5,false,2021-03-04
cid,25,,true,
ann,31,1.5,true,2020-01-02
dee,40,0.5,,2019-12-31
`, frame.ReadOptions{})
}

func TestTake(t *testing.T) {
	t.Parallel()
	f := people(t)
	g := f.Take([]int{4, 0, 0, 2})
	want := "name|age|score|member|joined\ndee|40|0.5|∅|2019-12-31\nann|31|1.5|true|2020-01-02\nann|31|1.5|true|2020-01-02\ncid|25|∅|true|∅"
	if got := table(g); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	name, _ := g.ColByName("name")
	if got := strings.Join(name.Dict, ","); got != "dee,ann,cid" {
		t.Errorf("dictionary: got %q, want %q", got, "dee,ann,cid")
	}
	if got := f.Take(nil).NumRows(); got != 0 {
		t.Errorf("Take(nil): got %d rows, want 0", got)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Take out of range did not panic")
		}
	}()
	f.Take([]int{5})
}

func TestSelectDropRenameWithColumn(t *testing.T) {
	t.Parallel()
	f := people(t)
	g, err := f.Select("score", "name")
	if err != nil || strings.Join(g.Names(), ",") != "score,name" {
		t.Errorf("Select: got %v, %v", g, err)
	}
	if _, err := f.Select("nope"); !errors.Is(err, frame.ErrNoColumn) {
		t.Errorf("Select unknown: got %v, want ErrNoColumn", err)
	}
	if _, err := f.Select("name", "name"); !errors.Is(err, frame.ErrDuplicateName) {
		t.Errorf("Select twice: got %v, want ErrDuplicateName", err)
	}
	d, err := f.Drop("age", "joined")
	if err != nil || strings.Join(d.Names(), ",") != "name,score,member" {
		t.Errorf("Drop: got %v, %v", d, err)
	}
	r, err := f.Rename(map[string]string{"age": "years"})
	if err != nil || strings.Join(r.Names(), ",") != "name,years,score,member,joined" {
		t.Errorf("Rename: got %v, %v", r, err)
	}
	if _, err := f.Rename(map[string]string{"age": "name"}); !errors.Is(err, frame.ErrDuplicateName) {
		t.Errorf("Rename clash: got %v, want ErrDuplicateName", err)
	}
	if c, _ := f.ColByName("age"); c.Name != "age" {
		t.Errorf("Rename changed the original column: %q", c.Name)
	}
	w, err := f.WithColumn(frame.NewInt("age", []int64{1, 2, 3, 4, 5}, nil))
	if err != nil || w.Schema().String() != "name string, age int, score float, member bool, joined time" || w.Col(1).Ints[4] != 5 {
		t.Errorf("WithColumn replace: got %v, %v", w, err)
	}
	w, err = f.WithColumn(frame.NewBool("new", make([]bool, 5), nil))
	if err != nil || w.NumCols() != 6 {
		t.Errorf("WithColumn add: got %v, %v", w, err)
	}
	if _, err := f.WithColumn(frame.NewBool("new", make([]bool, 4), nil)); !errors.Is(err, frame.ErrLength) {
		t.Errorf("WithColumn short: got %v, want ErrLength", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := frame.New(frame.NewInt("a", []int64{1}, nil), frame.NewInt("a", []int64{2}, nil)); !errors.Is(err, frame.ErrDuplicateName) {
		t.Errorf("duplicate: got %v", err)
	}
	if _, err := frame.New(frame.NewInt("a", []int64{1}, nil), frame.NewInt("b", []int64{2, 3}, nil)); !errors.Is(err, frame.ErrLength) {
		t.Errorf("lengths: got %v", err)
	}
	if _, err := frame.New(&frame.Column{Name: "x", Type: frame.Float, Ints: []int64{1}}); err == nil {
		t.Errorf("wrong slice: got no error")
	}
	f := mustNew(t, &frame.Column{Name: "x", Type: frame.Float, Floats: []float64{1, math.NaN()}})
	if !f.Col(0).IsNull(1) || f.Col(0).NullCount() != 1 {
		t.Errorf("NaN not marked missing")
	}
	tm := frame.NewTime("t", []time.Time{time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 3600))}, nil)
	if got := tm.Str(0); got != "2024-05-06T06:08:09Z" {
		t.Errorf("time Str: got %q", got)
	}
	lit := mustNew(t, &frame.Column{Name: "s", Type: frame.String, Codes: []int32{0, -1}, Dict: []string{"a"}})
	if !lit.Col(0).IsNull(1) {
		t.Errorf("code -1 not marked missing")
	}
	if _, err := frame.New(&frame.Column{Name: "s", Type: frame.String, Codes: []int32{1}, Dict: []string{"a"}}); err == nil {
		t.Errorf("code out of range: got no error")
	}
	s := frame.NewString("s", []string{"b", "a", "b", ""}, []bool{false, false, false, true})
	if got := strings.Join(s.Dict, ","); got != "b,a" || s.Codes[3] != -1 || s.Codes[2] != 0 {
		t.Errorf("NewString: dict %q codes %v", got, s.Codes)
	}
}

func TestSortBy(t *testing.T) {
	t.Parallel()
	f := mustRead(t, `k,v,s
2,a,x
1,b,y
,c,x
2,d,
1,e,x
3,f,y
`, frame.ReadOptions{})
	tests := []struct {
		name string
		keys []frame.SortKey
		want string // column v after sorting
	}{
		{"asc, stable, missing last", []frame.SortKey{{Column: "k"}}, "b,e,a,d,f,c"},
		{"desc, missing still last", []frame.SortKey{{Column: "k", Desc: true}}, "f,a,d,b,e,c"},
		{"two keys", []frame.SortKey{{Column: "s"}, {Column: "k", Desc: true}}, "a,e,c,f,b,d"},
		{"string desc", []frame.SortKey{{Column: "s", Desc: true}}, "b,f,a,c,e,d"},
		{"none", nil, "a,b,c,d,e,f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := f.SortBy(tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := g.ColByName("v")
			var got []string
			for i := 0; i < g.NumRows(); i++ {
				got = append(got, v.Str(i))
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("got %s, want %s", strings.Join(got, ","), tt.want)
			}
		})
	}
	if _, err := f.SortBy([]frame.SortKey{{Column: "zz"}}); !errors.Is(err, frame.ErrNoColumn) {
		t.Errorf("unknown key: got %v", err)
	}
}

func TestDedupeDropNA(t *testing.T) {
	t.Parallel()
	f := people(t)
	tests := []struct {
		name string
		run  func() (*frame.Frame, error)
		want string // column name, in order
	}{
		{"dedupe all", func() (*frame.Frame, error) { return f.Dedupe(nil) }, "ann,bob,cid,dee"},
		{"dedupe subset", func() (*frame.Frame, error) { return f.Dedupe([]string{"member"}) }, "ann,bob,dee"},
		{"dedupe missing equal", func() (*frame.Frame, error) {
			return mustRead(t, "name,x,y\nbob,,1\ncid,,1\ndee,,2\n", frame.ReadOptions{}).Dedupe([]string{"x", "y"})
		}, "bob,dee"},
		{"dropna any", func() (*frame.Frame, error) { return f.DropNA(nil, "any") }, "ann,ann"},
		{"dropna default how", func() (*frame.Frame, error) { return f.DropNA(nil, "") }, "ann,ann"},
		{"dropna subset", func() (*frame.Frame, error) { return f.DropNA([]string{"age"}, "any") }, "ann,cid,ann,dee"},
		{"dropna all", func() (*frame.Frame, error) { return f.DropNA([]string{"score", "joined"}, "all") }, "ann,bob,ann,dee"},
		{"dropna all of one", func() (*frame.Frame, error) { return f.DropNA([]string{"member"}, "all") }, "ann,bob,cid,ann"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := tt.run()
			if err != nil {
				t.Fatal(err)
			}
			name, _ := g.ColByName("name")
			var got []string
			for i := 0; i < g.NumRows(); i++ {
				got = append(got, name.Str(i))
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("got %s, want %s", strings.Join(got, ","), tt.want)
			}
		})
	}
	if _, err := f.DropNA(nil, "some"); err == nil {
		t.Errorf("bad how: got no error")
	}
	if _, err := f.Dedupe([]string{"x"}); !errors.Is(err, frame.ErrNoColumn) {
		t.Errorf("unknown column: got %v", err)
	}
}

func TestCast(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "s,i,x,b,t\n\" 1.5 \",1,2.0,true,2020-01-01T00:00:01Z\n\t2,0,-3.5,false,1970-01-01\n,,,,\n", frame.ReadOptions{})
	tests := []struct {
		name string
		col  string
		to   frame.Type
		want string // values joined by ","
	}{
		{"string to float trims", "s", frame.Float, "1.5,2.0,∅"},
		{"int to float", "i", frame.Float, "1.0,0.0,∅"},
		{"int to bool", "i", frame.Bool, "true,false,∅"},
		{"int to string", "i", frame.String, "1,0,∅"},
		{"float to string", "x", frame.String, "2.0,-3.5,∅"},
		{"bool to int", "b", frame.Int, "1,0,∅"},
		{"bool to float", "b", frame.Float, "1.0,0.0,∅"},
		{"time to int seconds", "t", frame.Int, "1577836801,0,∅"},
		{"time to float seconds", "t", frame.Float, "1577836801.0,0.0,∅"},
		{"time to string", "t", frame.String, "2020-01-01T00:00:01Z,1970-01-01,∅"},
		{"same type", "x", frame.Float, "2.0,-3.5,∅"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := f.Cast(tt.col, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := g.ColByName(tt.col)
			if c.Type != tt.to {
				t.Errorf("type: got %s, want %s", c.Type, tt.to)
			}
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
		})
	}
	errTests := []struct {
		name string
		in   string
		col  string
		to   frame.Type
		want string
	}{
		{"unparseable", "a\n1\nx1\n", "a", frame.Float, `frame: cast column "a" to float: row 1: cannot parse "x1": bad value`},
		{"not whole", "a\n1.5\n", "a", frame.Int, `frame: cast column "a" to int: row 0: cannot convert 1.5: bad value`},
		{"not 0 or 1", "a\n0\n2\n", "a", frame.Bool, `frame: cast column "a" to bool: row 1: cannot convert 2: bad value`},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustRead(t, tt.in, frame.ReadOptions{}).Cast(tt.col, tt.to)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
			if !errors.Is(err, frame.ErrBadValue) {
				t.Errorf("not ErrBadValue")
			}
		})
	}
	if _, err := f.Cast("zz", frame.Int); !errors.Is(err, frame.ErrNoColumn) {
		t.Errorf("unknown column: got %v", err)
	}
}

func TestConcat(t *testing.T) {
	t.Parallel()
	a := mustRead(t, "k,v,s\n1,2,x\n2,3,y\n", frame.ReadOptions{})
	b := mustRead(t, "s,v,k\nz,1.5,3\nx,,4\n", frame.ReadOptions{})
	c := mustRead(t, "k,v,s\n5,,\n", frame.ReadOptions{}) // v and s all missing (float)
	g, err := frame.Concat(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.Schema().String(), "k int, v float, s string"; got != want {
		t.Errorf("schema: got %q, want %q", got, want)
	}
	want := "k|v|s\n1|2.0|x\n2|3.0|y\n3|1.5|z\n4|∅|x\n5|∅|∅"
	if got := table(g); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	s, _ := g.ColByName("s")
	if got := strings.Join(s.Dict, ","); got != "x,y,z" {
		t.Errorf("dictionary: got %q", got)
	}
	empty := mustRead(t, "k,v,s\n", frame.ReadOptions{}) // no rows: all string
	if g, err := frame.Concat(empty, a); err != nil || g.Schema().String() != "k int, v int, s string" || g.NumRows() != 2 {
		t.Errorf("concat with empty frame: got %v, %v", g, err)
	}
	if _, err := frame.Concat(a, mustRead(t, "k,v,s\n1,2,true\n", frame.ReadOptions{})); !errors.Is(err, frame.ErrType) {
		t.Errorf("string+bool: got %v, want ErrType", err)
	}
	if _, err := frame.Concat(a, mustRead(t, "k,v\n1,2\n", frame.ReadOptions{})); err == nil {
		t.Errorf("different columns: got no error")
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	left := mustRead(t, "id,name,v\n1,a,10\n2,b,20\n,c,30\n2,d,40\n4,e,50\n", frame.ReadOptions{})
	right := mustRead(t, "id,v,w\n2,x,1.5\n3,y,2.5\n,z,3.5\n2,q,4.5\n", frame.ReadOptions{})
	tests := []struct {
		how  string
		want string
	}{
		{"inner", "id|name|v|v_right|w\n2|b|20|x|1.5\n2|b|20|q|4.5\n2|d|40|x|1.5\n2|d|40|q|4.5"},
		{"left", "id|name|v|v_right|w\n1|a|10|∅|∅\n2|b|20|x|1.5\n2|b|20|q|4.5\n∅|c|30|∅|∅\n2|d|40|x|1.5\n2|d|40|q|4.5\n4|e|50|∅|∅"},
		{"right", "id|name|v|v_right|w\n2|b|20|x|1.5\n2|d|40|x|1.5\n3|∅|∅|y|2.5\n∅|∅|∅|z|3.5\n2|b|20|q|4.5\n2|d|40|q|4.5"},
		{"outer", "id|name|v|v_right|w\n1|a|10|∅|∅\n2|b|20|x|1.5\n2|b|20|q|4.5\n∅|c|30|∅|∅\n2|d|40|x|1.5\n2|d|40|q|4.5\n4|e|50|∅|∅\n3|∅|∅|y|2.5\n∅|∅|∅|z|3.5"},
	}
	for _, tt := range tests {
		t.Run(tt.how, func(t *testing.T) {
			g, err := frame.Join(left, right, []string{"id"}, tt.how)
			if err != nil {
				t.Fatal(err)
			}
			if got := table(g); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	// Int and float keys match by value; two keys.
	l2 := mustRead(t, "a,b,x\n1,p,1\n2,q,2\n", frame.ReadOptions{})
	r2 := mustRead(t, "b,a,y\nq,2.0,9\np,1.5,8\n", frame.ReadOptions{})
	g, err := frame.Join(l2, r2, []string{"a", "b"}, "inner")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := table(g), "a|b|x|y\n2.0|q|2|9"; got != want {
		t.Errorf("two keys: got\n%s\nwant\n%s", got, want)
	}
	if _, err := frame.Join(left, right, []string{"name"}, "inner"); !errors.Is(err, frame.ErrNoColumn) {
		t.Errorf("missing key: got %v", err)
	}
	if _, err := frame.Join(left, right, []string{"id"}, "cross"); err == nil {
		t.Errorf("bad how: got no error")
	}
}
