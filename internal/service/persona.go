package service

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// ErrPersonaKey is wrapped by every persona decoding error.
var ErrPersonaKey = errors.New("persona key")

// Validator is implemented by personas that check their values as a whole
// after decoding.
type Validator interface {
	Validate() error
}

// NewPersona returns the service's persona filled from keys (INI keys from
// the fleet configuration, case-insensitive): defaults first, then each key
// decoded into the struct field tagged `ini:"key"`. An unknown key is an
// error that names it and lists the known ones. Supported field kinds:
// string, bool, ints, []string (comma list), map[string]string (a JSON
// object), and encoding.TextUnmarshaler.
func NewPersona(info Info, keys map[string]string) (any, error) {
	if info.Persona == nil {
		for k := range keys {
			return nil, fmt.Errorf("%w %q: service %s takes no persona keys", ErrPersonaKey, k, info.Slug)
		}
		return nil, nil
	}
	p := info.Persona()
	if err := DecodePersona(p, keys); err != nil {
		return nil, fmt.Errorf("service %s: %w", info.Slug, err)
	}
	return p, nil
}

// DecodePersona decodes keys into dst, a pointer to a persona struct.
func DecodePersona(dst any, keys map[string]string) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("persona %T is not a pointer to a struct", dst)
	}
	fields := personaFields(v.Elem())
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		f, ok := fields[strings.ToLower(k)]
		if !ok {
			return fmt.Errorf("%w %q is unknown; known keys: %s", ErrPersonaKey, k, strings.Join(PersonaKeys(dst), ", "))
		}
		if err := setField(f, keys[k]); err != nil {
			return fmt.Errorf("%w %q: %v", ErrPersonaKey, k, err)
		}
	}
	if val, ok := dst.(Validator); ok {
		if err := val.Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrPersonaKey, err)
		}
	}
	return nil
}

// PersonaKeys lists the INI keys a persona struct takes, sorted.
func PersonaKeys(persona any) []string {
	v := reflect.ValueOf(persona)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for k := range personaFields(v) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// personaFields maps the INI keys of a persona struct to its fields. The
// keys of an embedded struct are the outer persona's own (https embeds
// http's persona and adds its certificate's keys).
func personaFields(v reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct && sf.IsExported() {
			for k, f := range personaFields(v.Field(i)) {
				out[k] = f
			}
			continue
		}
		tag := sf.Tag.Get("ini")
		if tag == "" || tag == "-" || !sf.IsExported() {
			continue
		}
		out[strings.ToLower(tag)] = v.Field(i)
	}
	return out
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func setField(f reflect.Value, s string) error {
	if f.Addr().Type().Implements(textUnmarshaler) {
		return f.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		f.SetInt(n)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", f.Type())
		}
		var list []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		f.Set(reflect.ValueOf(list).Convert(f.Type()))
	case reflect.Map:
		m := reflect.New(f.Type())
		if err := json.Unmarshal([]byte(s), m.Interface()); err != nil {
			return fmt.Errorf("want a JSON object: %v", err)
		}
		f.Set(m.Elem())
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}

// PersonaOf returns the persona a service was built with, or the
// service's defaults (info.Persona) when it was built without one, as
// tests do, checked by its Validate: a persona struct filled in by code
// rather than decoded from keys is checked as one from an INI file is.
func PersonaOf[T any](cfg Config, info Info) (*T, error) {
	p, ok := cfg.Persona.(*T)
	if !ok || p == nil {
		p = info.Persona().(*T)
	}
	if v, ok := any(p).(Validator); ok {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("%s persona: %w", info.Slug, err)
		}
	}
	return p, nil
}
