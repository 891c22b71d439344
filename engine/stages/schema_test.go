package stages

import (
	"slices"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

// TestColumnTypesAgree: engine.ColumnType has frame.Type's numbers and
// names (both persisted), so shapeSchema and schemaOf convert a type by
// its number.
func TestColumnTypesAgree(t *testing.T) {
	t.Parallel()
	pairs := []struct {
		e engine.ColumnType
		f frame.Type
	}{
		{engine.ColumnFloat, frame.Float},
		{engine.ColumnInt, frame.Int},
		{engine.ColumnBool, frame.Bool},
		{engine.ColumnString, frame.String},
		{engine.ColumnTime, frame.Time},
	}
	for _, p := range pairs {
		if uint8(p.e) != uint8(p.f) {
			t.Errorf("engine.%v is %d, frame.%v %d", p.e, uint8(p.e), p.f, uint8(p.f))
		}
	}
	for v := range 256 {
		e, f := engine.ColumnType(v), frame.Type(v)
		if e.String() != f.String() {
			t.Errorf("type %d: engine names it %q, frame %q", v, e, f)
		}
	}
}

// TestShapeSchemaRoundTrip: a schema goes into a shape and comes back the
// same, an unknown (nil) one stays unknown and an empty one stays empty.
func TestShapeSchemaRoundTrip(t *testing.T) {
	t.Parallel()
	s := frame.Schema{{Name: "x", Type: frame.Float}, {Name: "n", Type: frame.Int}, {Name: "b", Type: frame.Bool}, {Name: "s", Type: frame.String}, {Name: "t", Type: frame.Time}}
	got := schemaOf(tableShape(s))
	if !slices.Equal(got, s) {
		t.Errorf("round trip: got %v, want %v", got, s)
	}
	want := engine.Schema{{Name: "x", Type: engine.ColumnFloat}, {Name: "n", Type: engine.ColumnInt}, {Name: "b", Type: engine.ColumnBool}, {Name: "s", Type: engine.ColumnString}, {Name: "t", Type: engine.ColumnTime}}
	if sh := tableShape(s); !slices.Equal(sh.Schema, want) {
		t.Errorf("in the shape: got %v, want %v", sh.Schema, want)
	}
	if schemaOf(tableShape(nil)) != nil || tableShape(nil).Schema != nil {
		t.Error("an unknown schema became known")
	}
	if e := schemaOf(tableShape(frame.Schema{})); e == nil || len(e) != 0 {
		t.Errorf("an empty schema: got %#v, want empty, not nil", e)
	}
}
