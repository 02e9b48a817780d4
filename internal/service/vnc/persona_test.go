package vnc

import (
	"reflect"
	"strings"
	"testing"

	"decnet/internal/service"
)

func TestPersonaKeys(t *testing.T) {
	info := Service{}.Info()
	for _, tc := range []struct {
		keys    map[string]string
		wantErr string
	}{
		{map[string]string{}, ""},
		{map[string]string{"product": "realvnc", "password": "secret", "desktop_name": "x", "geometry": "800x600"}, ""},
		{map[string]string{"security_types": "VncAuth,TLSVnc,Plain,None,X509Plain"}, ""},
		{map[string]string{"security_types": "vncauth"}, ""},
		{map[string]string{"product": "ultravnc"}, "product"},
		{map[string]string{"product": "realvnc", "security_types": "TLSVnc"}, "not a security type of realvnc"},
		{map[string]string{"product": "tightvnc", "security_types": "VncAuth"}, "no such setting"},
		{map[string]string{"security_types": "VeNCrypt"}, "not a security type"},
		{map[string]string{"security_types": "Tight"}, "not a security type"},
		{map[string]string{"geometry": "800"}, "geometry"},
		{map[string]string{"geometry": "0x600"}, "geometry"},
		{map[string]string{"geometry": "20000x600"}, "geometry"},
		{map[string]string{"desktop_name": "a\nb"}, "printable"},
		{map[string]string{"desktop_name": strings.Repeat("a", 256)}, "255"},
		{map[string]string{"colour": "blue"}, "unknown"},
	} {
		_, err := service.NewPersona(info, tc.keys)
		if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v: error %v, want one containing %q", tc.keys, err, tc.wantErr)
		}
	}
}

// TigerVNC's order: VeNCrypt first when any of its subtypes is enabled,
// then the plain types in the order given.
func TestSecurityTypes(t *testing.T) {
	for _, tc := range []struct {
		names   []string
		primary []uint8
		ext     []uint32
	}{
		{[]string{"TLSVnc", "VncAuth"}, []uint8{19, 2}, []uint32{258, 2}},
		{[]string{"VncAuth", "TLSVnc"}, []uint8{19, 2}, []uint32{2, 258}},
		{[]string{"VncAuth"}, []uint8{2}, []uint32{2}},
		{[]string{"None", "VncAuth", "none"}, []uint8{1, 2}, []uint32{1, 2}},
		{[]string{"Plain"}, []uint8{19}, []uint32{256}},
	} {
		primary, ext := securityTypes(tc.names)
		if !reflect.DeepEqual(primary, tc.primary) || !reflect.DeepEqual(ext, tc.ext) {
			t.Errorf("%v: %v %v, want %v %v", tc.names, primary, ext, tc.primary, tc.ext)
		}
	}
}

func TestDefaultDesktopNames(t *testing.T) {
	for product, want := range map[string]string{
		TigerVNC: "root@web01.corp.example", RealVNC: "web01.corp.example:0 (root)",
		TightVNC: "WEB01", LibVNCServer: "LibVNCServer",
	} {
		s := newServer(service.Config{Host: service.Host{Hostname: "web01.corp.example"}}, &Persona{Product: product})
		if s.desktopName != want {
			t.Errorf("%s: %q, want %q", product, s.desktopName, want)
		}
	}
	s := newServer(service.Config{Host: service.Host{Hostname: "averyveryverylonghostname"}}, &Persona{Product: TightVNC})
	if s.desktopName != "AVERYVERYVERYLO" {
		t.Errorf("tightvnc long name: %q", s.desktopName)
	}
}

func TestScanVersion(t *testing.T) {
	for _, tc := range []struct {
		msg          string
		major, minor int
		ok           bool
	}{
		{"RFB 003.008\n", 3, 8, true},
		{"RFB 003.003\n", 3, 3, true},
		{"RFB 003.889\n", 3, 889, true},
		{"RFB 004.001\n", 4, 1, true},
		{"RFB 3.8\n\x00\x00\x00\x00", 3, 8, true},
		{"RFB\t\t003.8xyz", 3, 8, true},
		{"RFB 003.008 ", 3, 8, true},
		{"RFB -03.+08\n", -3, 8, true},
		{"RFB 0003.008", 0, 0, false},
		{"RFB 003,008\n", 0, 0, false},
		{"rfb 003.008\n", 0, 0, false},
		{" RFB 003.008", 0, 0, false},
		{"RFB 003.\x00008\n", 0, 0, false},
		{"RFB 003.-\n\x00\x00\x00", 0, 0, false},
		{"GET / HTTP/1", 0, 0, false},
	} {
		major, minor, ok := scanVersion([]byte(tc.msg))
		if major != tc.major || minor != tc.minor || ok != tc.ok {
			t.Errorf("scanVersion(%q) = %d, %d, %v; want %d, %d, %v", tc.msg, major, minor, ok, tc.major, tc.minor, tc.ok)
		}
	}
}

func TestStrictVersion(t *testing.T) {
	for _, tc := range []struct {
		msg          string
		major, minor int
		ok           bool
	}{
		{"RFB 003.008\n", 3, 8, true},
		{"RFB 003.889\n", 3, 889, true},
		{"RFB 004.000\n", 4, 0, true},
		{"RFB 3.8\n\x00\x00\x00\x00", 0, 0, false},
		{"RFB 003.008\r", 0, 0, false},
		{"RFB 0x3.008\n", 0, 0, false},
	} {
		major, minor, ok := strictVersion([]byte(tc.msg))
		if major != tc.major || minor != tc.minor || ok != tc.ok {
			t.Errorf("strictVersion(%q) = %d, %d, %v; want %d, %d, %v", tc.msg, major, minor, ok, tc.major, tc.minor, tc.ok)
		}
	}
}
