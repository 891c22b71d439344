package stages_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

// TestPreviewIsBounded previews a table of 120 rows x 70 columns whose
// cells are 1 MB strings: at most 20 rows of 50 columns, each cell cut
// to 200 bytes ending in the marker, whatever the input.
func TestPreviewIsBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("é", 1<<19) // 1 MB, two bytes a rune
	var cols []*frame.Column
	for j := range 70 {
		vals := make([]string, 120)
		for i := range vals {
			vals[i] = big
		}
		cols = append(cols, frame.NewString(fmt.Sprintf("c%d", j), vals, nil))
	}
	f, err := frame.New(cols...)
	if err != nil {
		t.Fatal(err)
	}
	p := stages.Table(f).Preview()
	if p.Rows != 120 || p.Cols != 70 {
		t.Errorf("preview counts %d x %d, want the table's 120 x 70", p.Rows, p.Cols)
	}
	if len(p.Head) > engine.PreviewRows || len(p.Columns) > engine.PreviewCols {
		t.Fatalf("preview of %d rows and %d columns", len(p.Head), len(p.Columns))
	}
	size := 0
	for _, row := range p.Head {
		if len(row) > engine.PreviewCols {
			t.Fatalf("a preview row of %d cells", len(row))
		}
		for _, c := range row {
			if len(c) > engine.PreviewCell || !strings.HasSuffix(c, engine.CutMarker) {
				t.Fatalf("a cell of %d bytes (%q…)", len(c), c[:20])
			}
			size += len(c)
		}
	}
	for _, c := range p.Columns {
		for _, top := range c.Top {
			if len(top.Value) > engine.PreviewCell {
				t.Fatalf("a top value of %d bytes", len(top.Value))
			}
		}
	}
	if size > engine.PreviewRows*engine.PreviewCols*engine.PreviewCell {
		t.Errorf("preview cells take %d bytes", size)
	}
}

// TestValuesRoundTrip encodes a table through the executor's PutFunc
// shape and decodes it again.
func TestValuesRoundTrip(t *testing.T) {
	t.Parallel()
	f, err := frame.New(frame.NewFloat("x", []float64{1.5, 2, 3}, []bool{false, true, false}), frame.NewString("s", []string{"a", "b", "a"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	format, err := stages.Table(f).Encode(context.Background(), &buf, nil)
	if err != nil || format != "parquet" {
		t.Fatalf("encode: %q, %v", format, err)
	}
	v, err := stages.DecodeValue(context.Background(), engine.KindTable, format, buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := stages.FrameOf(v)
	if !ok || g.NumRows() != 3 || g.NumCols() != 2 || !g.Col(0).IsNull(1) || g.Col(1).Str(2) != "a" {
		t.Fatalf("decoded %v", g)
	}
	if _, err := stages.DecodeValue(context.Background(), engine.KindTable, format, buf.Bytes()[:buf.Len()/2], nil); err == nil {
		t.Error("half a table decoded")
	}
}
