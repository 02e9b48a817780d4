package vnc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Persona is what a decky's VNC server claims to be.
type Persona struct {
	// Product is the server imitated: tigervnc (TigerVNC 1.12, Debian 12's
	// Xtigervnc), realvnc (RealVNC 4.1, the last free edition), tightvnc
	// (TightVNC 2.x for Windows) or libvncserver (LibVNCServer 0.9, as in
	// x11vnc and many appliances).
	Product string `ini:"product"`
	// SecurityTypes is the SecurityTypes setting of TigerVNC and RealVNC,
	// in order of preference: None, VncAuth and, for tigervnc, Plain and
	// the VeNCrypt types TLSNone, TLSVnc, TLSPlain, X509None, X509Vnc and
	// X509Plain. Empty means the product's default (TLSVnc,VncAuth for
	// tigervnc, VncAuth for realvnc). TightVNC and LibVNCServer always
	// ask for a VNC password.
	SecurityTypes []string `ini:"security_types"`
	// Password, when set, is the VNC password that logs in: only its
	// first 8 bytes count, as in every VNC server. The client then gets a
	// blank desktop. Empty, the default, refuses every password.
	Password string `ini:"password"`
	// DesktopName is the desktop's name in ServerInit, after a login.
	// Empty means the product's default for the decky's hostname.
	DesktopName string `ini:"desktop_name"`
	// Geometry is the framebuffer's size, WIDTHxHEIGHT. Empty means the
	// product's default.
	Geometry string `ini:"geometry"`
}

// The products a persona can imitate.
const (
	TigerVNC     = "tigervnc"
	RealVNC      = "realvnc"
	TightVNC     = "tightvnc"
	LibVNCServer = "libvncserver"
)

// Security types (RFC 6143 §7.2 and the VeNCrypt subtypes).
const (
	secNone      = 1
	secVncAuth   = 2
	secTight     = 16
	secVeNCrypt  = 19
	secPlain     = 256
	secTLSNone   = 257
	secTLSVnc    = 258
	secTLSPlain  = 259
	secX509None  = 260
	secX509Vnc   = 261
	secX509Plain = 262
)

// secTypeNames are TigerVNC's names of the security types (rfb::secTypeName).
var secTypeNames = map[uint32]string{
	secNone: "None", secVncAuth: "VncAuth", secTight: "Tight", secVeNCrypt: "VeNCrypt",
	secPlain: "Plain", secTLSNone: "TLSNone", secTLSVnc: "TLSVnc", secTLSPlain: "TLSPlain",
	secX509None: "X509None", secX509Vnc: "X509Vnc", secX509Plain: "X509Plain",
}

func secTypeName(t uint32) string {
	if n, ok := secTypeNames[t]; ok {
		return n
	}
	return "[unknown secType]"
}

// secTypeNum reads a SecurityTypes name as TigerVNC does: case-insensitive.
func secTypeNum(name string) (uint32, bool) {
	for t, n := range secTypeNames {
		if strings.EqualFold(n, name) {
			return t, true
		}
	}
	return 0, false
}

// maxGeometry bounds the framebuffer, like Xvnc's own limit.
const maxGeometry = 16384

func defaultPersona() any { return &Persona{Product: TigerVNC} }

// Validate checks the product, its security types and the geometry.
func (p *Persona) Validate() error {
	prod, ok := products[p.Product]
	if !ok {
		return fmt.Errorf("product %q: want %s, %s, %s or %s", p.Product, TigerVNC, RealVNC, TightVNC, LibVNCServer)
	}
	if len(p.SecurityTypes) > 0 && prod.family != familyRFB4 {
		return fmt.Errorf("security_types: %s has no such setting", p.Product)
	}
	for _, name := range p.SecurityTypes {
		t, ok := secTypeNum(name)
		if !ok || !prod.allowed[t] {
			return fmt.Errorf("security_types: %q is not a security type of %s", name, p.Product)
		}
	}
	if p.Geometry != "" {
		if _, _, err := parseGeometry(p.Geometry); err != nil {
			return err
		}
	}
	if len(p.DesktopName) > 255 {
		return errors.New("desktop_name: longer than 255 bytes")
	}
	for _, r := range p.DesktopName {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("desktop_name: %q must be printable", p.DesktopName)
		}
	}
	return nil
}

// parseGeometry reads WIDTHxHEIGHT.
func parseGeometry(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, werr := strconv.Atoi(ws)
	h, herr := strconv.Atoi(hs)
	if !ok || werr != nil || herr != nil || w < 1 || h < 1 || w > maxGeometry || h > maxGeometry {
		return 0, 0, fmt.Errorf("geometry %q: want WIDTHxHEIGHT, each 1 to %d", s, maxGeometry)
	}
	return w, h, nil
}

// securityTypes returns the security types offered to RFB 3.7+ clients and
// the VeNCrypt subtypes, from a SecurityTypes list, as TigerVNC's
// Security::GetEnabledSecTypes and GetEnabledExtSecTypes do: VeNCrypt first
// when any VeNCrypt subtype is enabled, then the plain types in order.
func securityTypes(names []string) (primary []uint8, ext []uint32) {
	var enabled []uint32
	for _, n := range names {
		t, _ := secTypeNum(n)
		dup := false
		for _, e := range enabled {
			dup = dup || e == t
		}
		if !dup {
			enabled = append(enabled, t)
		}
	}
	for _, t := range enabled {
		if t >= 0x100 {
			primary = append(primary, secVeNCrypt)
			break
		}
	}
	for _, t := range enabled {
		if t < 0x100 {
			primary = append(primary, uint8(t))
		}
		ext = append(ext, t)
	}
	return primary, ext
}
