package service

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

type level string

func (l *level) UnmarshalText(b []byte) error {
	if s := string(b); s != "low" && s != "high" {
		return errors.New("want low or high")
	} else {
		*l = level(s)
	}
	return nil
}

type testPersona struct {
	Banner  string            `ini:"banner"`
	Code    int               `ini:"response_code"`
	Open    bool              `ini:"open"`
	Users   []string          `ini:"users"`
	Headers map[string]string `ini:"extra_headers"`
	Level   level             `ini:"level"`
}

func (p *testPersona) Validate() error {
	if p.Code != 0 && (p.Code < 100 || p.Code > 599) {
		return errors.New("response_code must be 100..599")
	}
	return nil
}

func TestDecodePersona(t *testing.T) {
	tests := []struct {
		name    string
		keys    map[string]string
		want    testPersona
		wantErr string
	}{
		{name: "defaults kept", keys: nil, want: testPersona{Banner: "dflt"}},
		{name: "all kinds", keys: map[string]string{"Banner": "x", "response_code": " 404 ", "open": "true",
			"users": "a:b, c:d,", "extra_headers": `{"X-A":"1"}`, "level": "high"},
			want: testPersona{Banner: "x", Code: 404, Open: true, Users: []string{"a:b", "c:d"}, Headers: map[string]string{"X-A": "1"}, Level: "high"}},
		{name: "unknown key", keys: map[string]string{"banr": "x"},
			wantErr: `persona key "banr" is unknown; known keys: banner, extra_headers, level, open, response_code, users`},
		{name: "bad int", keys: map[string]string{"response_code": "abc"}, wantErr: `persona key "response_code": "abc" is not a whole number`},
		{name: "bad bool", keys: map[string]string{"open": "maybe"}, wantErr: `"maybe" is not true or false`},
		{name: "bad json", keys: map[string]string{"extra_headers": "[1]"}, wantErr: "want a JSON object"},
		{name: "text unmarshaler", keys: map[string]string{"level": "mid"}, wantErr: "want low or high"},
		{name: "validate", keys: map[string]string{"response_code": "42"}, wantErr: "response_code must be 100..599"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &testPersona{Banner: "dflt"}
			err := DecodePersona(p, tt.keys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrPersonaKey) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*p, tt.want) {
				t.Errorf("got %+v, want %+v", *p, tt.want)
			}
		})
	}
}

func TestNewPersonaWithoutKeys(t *testing.T) {
	info := Info{Slug: "plain"}
	if p, err := NewPersona(info, nil); err != nil || p != nil {
		t.Fatalf("NewPersona = %v, %v", p, err)
	}
	if _, err := NewPersona(info, map[string]string{"x": "1"}); !errors.Is(err, ErrPersonaKey) {
		t.Fatalf("err = %v", err)
	}
	info.Persona = func() any { return &testPersona{} }
	p, err := NewPersona(info, map[string]string{"banner": "b"})
	if err != nil || p.(*testPersona).Banner != "b" {
		t.Fatalf("NewPersona = %v, %v", p, err)
	}
}

// Web is a persona another embeds, as https embeds http's.
type Web struct {
	Banner string `ini:"banner"`
	Code   int    `ini:"response_code"`
}

func (w *Web) Validate() error {
	if w.Code != 0 && (w.Code < 100 || w.Code > 599) {
		return errors.New("response_code must be 100..599")
	}
	return nil
}

type tlsPersona struct {
	Web
	CertCN string `ini:"cert_cn"`
}

func TestDecodeEmbeddedPersona(t *testing.T) {
	p := &tlsPersona{}
	if err := DecodePersona(p, map[string]string{"banner": "b", "cert_cn": "web01", "response_code": "404"}); err != nil {
		t.Fatal(err)
	}
	if p.Banner != "b" || p.Code != 404 || p.CertCN != "web01" {
		t.Errorf("decoded %+v", p)
	}
	if got := strings.Join(PersonaKeys(p), ","); got != "banner,cert_cn,response_code" {
		t.Errorf("keys %s", got)
	}
	// The embedded persona's Validate is promoted.
	if err := DecodePersona(&tlsPersona{}, map[string]string{"response_code": "42"}); err == nil {
		t.Error("the embedded persona's checks did not run")
	}
}

func TestPersonaOf(t *testing.T) {
	info := Info{Slug: "web", Persona: func() any { return &Web{Banner: "default"} }}
	if p, err := PersonaOf[Web](Config{}, info); err != nil || p.Banner != "default" {
		t.Errorf("without a persona: %+v, %v; want the defaults", p, err)
	}
	mine := &Web{Banner: "mine"}
	if p, err := PersonaOf[Web](Config{Persona: mine}, info); err != nil || p != mine {
		t.Errorf("the built persona not returned: %+v, %v", p, err)
	}
	// A persona filled in by code is checked as a decoded one is.
	if _, err := PersonaOf[Web](Config{Persona: &Web{Code: 42}}, info); err == nil || err.Error() != "web persona: response_code must be 100..599" {
		t.Errorf("an invalid persona: %v", err)
	}
}
