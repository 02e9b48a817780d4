package vnc

import (
	"encoding/binary"
	"strings"
	"time"
)

// family is a lineage of VNC servers that share their handshake code.
type family int

const (
	// familyRFB4 is RealVNC 4 and TigerVNC, which forked from it and kept
	// its SConnection, security factory and blacklist.
	familyRFB4 family = iota
	// familyTight is TightVNC 2.x (RfbInitializer).
	familyTight
	// familyLibVNC is LibVNCServer (rfbserver.c, auth.c).
	familyLibVNC
)

// product is how one server behaves where the families leave room.
type product struct {
	family family
	// majorMismatch is the RFB4 family's refusal of a client whose major
	// version is not 3, formatted with the client's major and minor.
	majorMismatch string
	// failDelay holds back a failed authentication's SecurityResult
	// (TigerVNC's authFailureTimer, against brute force).
	failDelay time.Duration
	// defaultTypes is the SecurityTypes default; allowed, the types the
	// product knows.
	defaultTypes []string
	allowed      map[uint32]bool
	// width and height are the framebuffer's default size.
	width, height int
	format        pixelFormat
	// desktopName is the default ServerInit name for a hostname.
	desktopName func(hostname string) string
}

// products are the servers a persona can imitate. Sources: TigerVNC
// v1.12.0 and RealVNC 4.1.2 (TigerVNC's history) common/rfb, TightVNC 2.x
// rfb-sconn and tvnserver-app, LibVNCServer 0.9.14 libvncserver; TigerVNC's
// bytes checked against Debian 12's Xtigervnc.
var products = map[string]product{
	TigerVNC: {
		family:        familyRFB4,
		majorMismatch: "Client needs protocol version %d.%d, server has 3.8",
		failDelay:     100 * time.Millisecond,
		defaultTypes:  []string{"TLSVnc", "VncAuth"},
		allowed: map[uint32]bool{secNone: true, secVncAuth: true, secPlain: true, secTLSNone: true, secTLSVnc: true,
			secTLSPlain: true, secX509None: true, secX509Vnc: true, secX509Plain: true},
		// Xvnc's VNC_DEFAULT_WIDTH/HEIGHT and depth 24; the name is
		// Xvnc's and x0vncserver's defaultDesktopName(), user@host.
		width: 1024, height: 768,
		format:      pixelFormat{bpp: 32, depth: 24, trueColour: 1, redMax: 255, greenMax: 255, blueMax: 255, redShift: 16, greenShift: 8},
		desktopName: func(h string) string { return "root@" + h },
	},
	RealVNC: {
		family:        familyRFB4,
		majorMismatch: "Error: client needs protocol version %d.%d, server has 3.8",
		defaultTypes:  []string{"VncAuth"},
		allowed:       map[uint32]bool{secNone: true, secVncAuth: true},
		width:         1024, height: 768,
		format: pixelFormat{bpp: 32, depth: 24, trueColour: 1, redMax: 255, greenMax: 255, blueMax: 255, redShift: 16, greenShift: 8},
		// The vncserver script's "$host:$displayNumber ($USER)".
		desktopName: func(h string) string { return h + ":0 (root)" },
	},
	TightVNC: {
		family: familyTight,
		width:  1920, height: 1080,
		format: pixelFormat{bpp: 32, depth: 24, trueColour: 1, redMax: 255, greenMax: 255, blueMax: 255, redShift: 16, greenShift: 8},
		// Windows' GetComputerName: the NetBIOS name, upper case, at most
		// 15 characters.
		desktopName: func(h string) string {
			h, _, _ = strings.Cut(strings.ToUpper(h), ".")
			return h[:min(len(h), 15)]
		},
	},
	LibVNCServer: {
		family: familyLibVNC,
		width:  1024, height: 768,
		// rfbInitServerFormat on a little-endian host: red in the low byte.
		format:      pixelFormat{bpp: 32, depth: 24, trueColour: 1, redMax: 255, greenMax: 255, blueMax: 255, greenShift: 8, blueShift: 16},
		desktopName: func(string) string { return "LibVNCServer" },
	},
}

// pixelFormat is RFC 6143's PIXEL_FORMAT.
type pixelFormat struct {
	bpp, depth, bigEndian, trueColour uint8
	redMax, greenMax, blueMax         uint16
	redShift, greenShift, blueShift   uint8
}

// appendTo appends the 16-byte wire form.
func (f pixelFormat) appendTo(b []byte) []byte {
	b = append(b, f.bpp, f.depth, f.bigEndian, f.trueColour)
	b = binary.BigEndian.AppendUint16(b, f.redMax)
	b = binary.BigEndian.AppendUint16(b, f.greenMax)
	b = binary.BigEndian.AppendUint16(b, f.blueMax)
	return append(b, f.redShift, f.greenShift, f.blueShift, 0, 0, 0)
}
