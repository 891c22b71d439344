package frame_test

import (
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

func TestSmoke(t *testing.T) {
	in := "a,b,c,d\n1,2.5,x,true\n2,,\"y,z\",false\n,3,NA,TRUE\n"
	f, err := frame.ReadCSV(strings.NewReader(in), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(f, f.Head(-1))
	var sb strings.Builder
	if err := frame.WriteCSV(&sb, f); err != nil {
		t.Fatal(err)
	}
	t.Log(sb.String())
}
