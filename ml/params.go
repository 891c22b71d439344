package ml

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
)

// SetParams sets hyperparameters on model, a pointer to a struct, by
// their scikit-learn names. A hyperparameter is an exported field tagged
// `ml:"param"`; its name is the field's json name. Values convert the way
// a decoded JSON or YAML document needs: any number to a float field, a
// whole number to an int field, bool to bool, string to string, a list
// of numbers to a []float64 or [2]float64 field.
//
// SetParams returns an error naming the parameter for an unknown name or
// a value of the wrong type, and leaves the other fields set. It panics
// if model is not a non-nil pointer to a struct.
func SetParams(model any, params map[string]any) error {
	v := reflect.ValueOf(model)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("ml: SetParams on %T, want a pointer to a struct", model))
	}
	v = v.Elem()
	fields := paramFields(v.Type())
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		i, ok := fields[name]
		if !ok {
			return fmt.Errorf("ml: %s has no parameter %q (has %s)", v.Type().Name(), name, strings.Join(ParamNames(model), ", "))
		}
		if err := assign(v.Field(i), params[name]); err != nil {
			return fmt.Errorf("ml: %s parameter %s: %w", v.Type().Name(), name, err)
		}
	}
	return nil
}

// ParamNames lists the hyperparameter names SetParams accepts for model,
// sorted.
func ParamNames(model any) []string {
	t := reflect.TypeOf(model)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for name := range paramFields(t) {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func paramFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("ml") != "param" {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		m[name] = i
	}
	return m
}

func assign(f reflect.Value, val any) error {
	switch f.Kind() {
	case reflect.Float64:
		x, ok := toFloat(val)
		if !ok {
			return fmt.Errorf("got %v (%T), want a number", val, val)
		}
		f.SetFloat(x)
	case reflect.Int, reflect.Int64, reflect.Int32:
		x, ok := toFloat(val)
		if !ok || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return fmt.Errorf("got %v (%T), want a whole number", val, val)
		}
		f.SetInt(int64(x))
	case reflect.Uint64, reflect.Uint, reflect.Uint32:
		x, ok := toFloat(val)
		if !ok || x != math.Trunc(x) || x < 0 || x > 1<<53 {
			return fmt.Errorf("got %v (%T), want a non-negative whole number", val, val)
		}
		f.SetUint(uint64(x))
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return fmt.Errorf("got %v (%T), want true or false", val, val)
		}
		f.SetBool(b)
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return fmt.Errorf("got %v (%T), want a string", val, val)
		}
		f.SetString(s)
	case reflect.Slice, reflect.Array:
		if f.Type().Elem().Kind() != reflect.Float64 {
			return fmt.Errorf("unsupported field type %s", f.Type())
		}
		rv := reflect.ValueOf(val)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return fmt.Errorf("got %v (%T), want a list of numbers", val, val)
		}
		n := rv.Len()
		if f.Kind() == reflect.Array && n != f.Len() {
			return fmt.Errorf("got %d numbers, want %d", n, f.Len())
		}
		if f.Kind() == reflect.Slice {
			f.Set(reflect.MakeSlice(f.Type(), n, n))
		}
		for i := 0; i < n; i++ {
			x, ok := toFloat(rv.Index(i).Interface())
			if !ok {
				return fmt.Errorf("element %d is %v, want a number", i, rv.Index(i).Interface())
			}
			f.Index(i).SetFloat(x)
		}
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint32:
		return float64(x), true
	}
	return 0, false
}

// FactoryOf returns a Factory that makes a fresh estimator with newModel
// (which should set the defaults) and then applies the parameters with
// the model's own SetParams method if it has one, else with SetParams.
func FactoryOf[E Estimator](newModel func() E) Factory {
	return func(params map[string]any) (Estimator, error) {
		m := newModel()
		if len(params) == 0 {
			return m, nil
		}
		var err error
		if ps, ok := any(m).(interface{ SetParams(map[string]any) error }); ok {
			err = ps.SetParams(params)
		} else {
			err = SetParams(any(m), params)
		}
		if err != nil {
			return nil, err
		}
		return m, nil
	}
}
