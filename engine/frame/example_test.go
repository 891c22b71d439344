package frame_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sluice-ml/sluice/engine/frame"
)

func ExampleReadCSV() {
	in := "city,temp,rain\nOslo,4.5,true\nLima,19,false\nRome,,true\n"
	f, err := frame.ReadCSV(strings.NewReader(in), frame.ReadOptions{Name: "weather.csv"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Schema())
	temp, _ := f.ColByName("temp")
	fmt.Println(temp.Floats[:2], temp.IsNull(2))
	// Output:
	// city string, temp float, rain bool
	// [4.5 19] true
}

func ExampleParseError() {
	_, err := frame.ReadCSV(strings.NewReader("a,b\n1,2\n3\n"), frame.ReadOptions{Name: "data.csv"})
	fmt.Println(err)
	var pe *frame.ParseError
	fmt.Println(errors.As(err, &pe), pe.Line, pe.Col, errors.Is(err, frame.ErrFieldCount))
	// Output:
	// data.csv:3:2: wrong number of fields: got 1, want 2
	// true 3 2 true
}

func ExampleFrame_SortBy() {
	f, _ := frame.ReadCSV(strings.NewReader("name,score\nann,3\nbob,\ncid,5\n"), frame.ReadOptions{})
	f, _ = f.SortBy([]frame.SortKey{{Column: "score", Desc: true}})
	if err := frame.WriteCSV(os.Stdout, f); err != nil {
		fmt.Println(err)
	}
	// Output:
	// name,score
	// cid,5
	// ann,3
	// bob,
}

func ExampleJoin() {
	people, _ := frame.ReadCSV(strings.NewReader("id,name\n1,ann\n2,bob\n"), frame.ReadOptions{})
	orders, _ := frame.ReadCSV(strings.NewReader("id,total\n2,9.5\n2,1.25\n3,4.0\n"), frame.ReadOptions{})
	j, _ := frame.Join(people, orders, []string{"id"}, "left")
	if err := frame.WriteCSV(os.Stdout, j); err != nil {
		fmt.Println(err)
	}
	// Output:
	// id,name,total
	// 1,ann,
	// 2,bob,9.5
	// 2,bob,1.25
}
