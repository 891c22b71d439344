package frame

import (
	"fmt"
	"strings"
)

// Type is the type of a column's values. The numbers are pinned: they are
// persisted in stored runs and models and never change.
type Type uint8

// The column types.
const (
	Float  Type = 1 // float64; NaN is always missing
	Int    Type = 2 // int64
	Bool   Type = 3 // bool
	String Type = 4 // dictionary-encoded string (categorical)
	Time   Type = 5 // instant, stored as Unix nanoseconds in UTC
)

var typeNames = [...]string{Float: "float", Int: "int", Bool: "bool", String: "string", Time: "time"}

// String returns the type's name: "float", "int", "bool", "string" or "time".
// An unknown value gives "type(N)".
func (t Type) String() string {
	if t >= Float && t <= Time {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Valid reports whether t is one of the defined types.
func (t Type) Valid() bool { return t >= Float && t <= Time }

// Numeric reports whether values of type t have a numeric view (see Column.Float):
// Float, Int, Bool and Time.
func (t Type) Numeric() bool { return t == Float || t == Int || t == Bool || t == Time }

// ParseType returns the type named s (case-insensitive, surrounding spaces
// ignored). Besides the canonical names it accepts "float64", "double",
// "int64", "integer", "boolean", "str", "category", "datetime" and
// "timestamp". It returns an error for any other name.
func ParseType(s string) (Type, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "float", "float64", "double":
		return Float, nil
	case "int", "int64", "integer":
		return Int, nil
	case "bool", "boolean":
		return Bool, nil
	case "string", "str", "category":
		return String, nil
	case "time", "datetime", "timestamp":
		return Time, nil
	}
	return 0, fmt.Errorf("frame: unknown type %q (want float, int, bool, string or time)", s)
}

// MarshalText encodes the type as its name.
func (t Type) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("frame: invalid type %d", uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText decodes a type name as ParseType does.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Field is a column's name and type.
type Field struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Schema lists a frame's columns in order.
type Schema []Field

// Index returns the position of the column named name, or -1.
func (s Schema) Index(name string) int {
	for i, f := range s {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Names returns the column names in order.
func (s Schema) Names() []string {
	out := make([]string, len(s))
	for i, f := range s {
		out[i] = f.Name
	}
	return out
}

// String formats the schema as "name type, name type, ...".
func (s Schema) String() string {
	var b strings.Builder
	for i, f := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
		b.WriteByte(' ')
		b.WriteString(f.Type.String())
	}
	return b.String()
}
