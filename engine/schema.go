package engine

import "fmt"

// Schema is what validation knows of a table's columns (Shape.Schema):
// their names and types, in order. nil means the columns are unknown
// until the stage runs; an empty Schema is a table without columns. The
// stage catalog fills it from, and reads it as, its tables' own schema.
type Schema []Column

// Column is one column of a Schema.
type Column struct {
	Name string
	Type ColumnType
}

// ColumnType is a column's type. Its numbers and names are those of the
// catalog's table columns (engine/frame's Type, checked by a test in
// engine/stages), which are persisted with runs and models: they never
// change.
type ColumnType uint8

// The column types.
const (
	ColumnFloat  ColumnType = 1 // float64; NaN is missing
	ColumnInt    ColumnType = 2 // int64
	ColumnBool   ColumnType = 3
	ColumnString ColumnType = 4 // categorical
	ColumnTime   ColumnType = 5 // an instant
)

var columnTypeNames = [...]string{ColumnFloat: "float", ColumnInt: "int", ColumnBool: "bool", ColumnString: "string", ColumnTime: "time"}

// String names the type: "float", "int", "bool", "string" or "time"; an
// unknown value gives "type(N)".
func (t ColumnType) String() string {
	if t >= ColumnFloat && t <= ColumnTime {
		return columnTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}
