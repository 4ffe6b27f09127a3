package gguf

import (
	"fmt"
	"math"
)

// Type is the type tag of a metadata value.
type Type uint32

// Metadata value types, as numbered in the GGUF specification.
const (
	TypeUint8   Type = 0
	TypeInt8    Type = 1
	TypeUint16  Type = 2
	TypeInt16   Type = 3
	TypeUint32  Type = 4
	TypeInt32   Type = 5
	TypeFloat32 Type = 6
	TypeBool    Type = 7
	TypeString  Type = 8
	TypeArray   Type = 9
	TypeUint64  Type = 10
	TypeInt64   Type = 11
	TypeFloat64 Type = 12
)

var typeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32",
	"float32", "bool", "string", "array", "uint64", "int64", "float64"}

// String returns the specification name of t.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// fixedSize is the encoded size of a scalar type, 0 for strings and arrays,
// -1 for unknown types.
func (t Type) fixedSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	case TypeString, TypeArray:
		return 0
	}
	return -1
}

// Value is one decoded metadata value. V holds, by Type: uint8, int8,
// uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64, or *Array for TypeArray.
type Value struct {
	Type Type
	V    any
}

// Array is a decoded metadata array. Values is a typed slice matching
// Elem: []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32,
// []bool, []string, []uint64, []int64, []float64, or []*Array for nested
// arrays.
type Array struct {
	Elem   Type
	Len    int
	Values any
}

// Int returns v as a signed integer when v is any integer type that fits.
func (v Value) Int() (int64, bool) {
	switch x := v.V.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// Float returns v as a float64 when v is a float or integer type.
func (v Value) Float() (float64, bool) {
	switch x := v.V.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	if i, ok := v.Int(); ok {
		return float64(i), true
	}
	return 0, false
}

// String returns a short human-readable rendering of v; arrays are
// summarised by element type and length.
func (v Value) String() string {
	if a, ok := v.V.(*Array); ok {
		return fmt.Sprintf("[%d]%s", a.Len, a.Elem)
	}
	return fmt.Sprint(v.V)
}
