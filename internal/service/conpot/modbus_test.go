package conpot

import (
	"bytes"
	"io"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// exchange sends a Modbus request (MBAP included) and reads one answer.
func exchange(t *testing.T, addr string, req []byte) []byte {
	t.Helper()
	c := testutil.Dial(t, addr, 5*time.Second)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 7)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(head[4])<<8|int(head[5])-1)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	return append(head, body...)
}

// TestModbusAnswers checks the device's answers, exceptions included,
// byte for byte, for each persona.
func TestModbusAnswers(t *testing.T) {
	m340, _ := newTestServer(t, "plc-a", addrUnit, &Persona{Device: DeviceM340, Site: SiteWater})
	s7, _ := newTestServer(t, "plc-b", addrUnit, &Persona{Device: DeviceS71200, Site: SiteSubstation})
	ma, _ := serve(t, m340, addrUnit)
	sa, _ := serve(t, s7, addrUnit)
	tests := []struct {
		name string
		addr string
		req  string
		want string
	}{
		{"m340 read holding", ma[PortModbus], "0001 0000 0006 01 03 0000 0002", "0001 0000 0007 01 03 04 01a4 00b4"},
		{"m340 read coils", ma[PortModbus], "0002 0000 0006 ff 01 0000 0008", "0002 0000 0004 ff 01 01 2b"},
		{"m340 count 0", ma[PortModbus], "0003 0000 0006 01 03 0000 0000", "0003 0000 0003 01 83 03"},
		{"m340 count 126", ma[PortModbus], "0003 0000 0006 01 03 0000 007e", "0003 0000 0003 01 83 03"},
		{"m340 past %MW", ma[PortModbus], "0004 0000 0006 01 03 03ff 0002", "0004 0000 0003 01 83 02"},
		{"m340 fc 8", ma[PortModbus], "0005 0000 0006 01 08 0000 1234", "0005 0000 0003 01 88 01"},
		{"m340 coil value", ma[PortModbus], "0006 0000 0006 01 05 0000 1234", "0006 0000 0003 01 85 03"},
		{"m340 umas", ma[PortModbus], "0007 0000 0004 00 5a 00 02", "0007 0000 0006 00 5a 00 fd 00 00"},
		{"m340 report id", ma[PortModbus], "0008 0000 0002 01 11", "0008 0000 0011 01 11 0e fa ff" + hexOf(m340.id.product)},
		{"m340 mei 13", ma[PortModbus], "0009 0000 0005 01 2b 0d 01 00", "0009 0000 0003 01 ab 01"},
		{"m340 read code 9", ma[PortModbus], "000a 0000 0005 01 2b 0e 09 00", "000a 0000 0003 01 ab 03"},
		{"s7 fc 43", sa[PortModbus], "0001 0000 0005 01 2b 0e 01 00", "0001 0000 0003 01 ab 01"},
		{"s7 fc 17", sa[PortModbus], "0001 0000 0002 01 11", "0001 0000 0003 01 91 01"},
		{"s7 past MB_HOLD_REG", sa[PortModbus], "0001 0000 0006 01 03 0063 0002", "0001 0000 0003 01 83 02"},
		{"s7 read inputs", sa[PortModbus], "0001 0000 0006 07 02 0000 0006", "0001 0000 0004 07 02 01 27"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, tc.addr, testutil.Hex(tc.req))
			if want := testutil.Hex(tc.want); !bytes.Equal(got, want) {
				t.Errorf("got %x, want %x", got, want)
			}
		})
	}
}

func hexOf(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		b.WriteString(" ")
		b.WriteString(string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15]))
	}
	return b.String()
}

// TestModbusShortSegment checks the answer to nmap's "\r\n\r\n" probe,
// which nmap's modbus match lines name "Modbus TCP".
func TestModbusShortSegment(t *testing.T) {
	s, ev := newTestServer(t, "plc-a", addrUnit, &Persona{Device: DeviceM340, Site: SiteWater})
	a, _ := serve(t, s, addrUnit)
	c := testutil.Dial(t, a[PortModbus], 5*time.Second)
	c.Write([]byte("\r\n\r\n"))
	got := make([]byte, 9)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if want := []byte("\r\n\r\n\x00\x03\x00\x80\x01"); !bytes.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	testutil.Eventually(t, "short frame event", func() bool { return len(ev.OfType(typeModbusOther)) == 1 })
}

// TestModbusWriteEvents checks that writes change later reads and are
// recorded as attacks: critical for setpoints and coils.
func TestModbusWriteEvents(t *testing.T) {
	s, ev := newTestServer(t, "plc-a", addrUnit, &Persona{Device: DeviceM340, Site: SiteWater})
	a, _ := serve(t, s, addrUnit)
	exchange(t, a[PortModbus], testutil.Hex("0001 0000 0006 01 06 0002 00c8"))
	exchange(t, a[PortModbus], testutil.Hex("0002 0000 0006 01 06 0064 0007"))
	exchange(t, a[PortModbus], testutil.Hex("0003 0000 0008 01 0f 0000 0002 01 00"))
	exchange(t, a[PortModbus], testutil.Hex("0006 0000 0006 01 05 0002 ff00"))
	got := exchange(t, a[PortModbus], testutil.Hex("0004 0000 0006 01 03 0002 0001"))
	if want := testutil.Hex("0004 0000 0005 01 03 02 00c8"); !bytes.Equal(got, want) {
		t.Errorf("read back %x, want %x", got, want)
	}
	got = exchange(t, a[PortModbus], testutil.Hex("0005 0000 0006 01 01 0000 0002"))
	if want := testutil.Hex("0005 0000 0004 01 01 01 00"); !bytes.Equal(got, want) {
		t.Errorf("coils read back %x, want %x", got, want)
	}
	testutil.Eventually(t, "four write events", func() bool { return len(ev.OfType(typeModbusWrite)) == 4 })
	w := ev.OfType(typeModbusWrite)
	for i, want := range []struct {
		sev  event.Severity
		tags string
	}{{event.Critical, "CL_DOSE_SP"}, {event.Warning, ""}, {event.Critical, "P101_RUN,P102_RUN"}, {event.Critical, "P103_RUN"}} {
		if w[i].Severity != want.sev || w[i].Fields["tags"] != want.tags || w[i].Fields[event.FieldSrcIP] != "127.0.0.1" {
			t.Errorf("write %d: severity %d fields %v", i, w[i].Severity, w[i].Fields)
		}
	}
	if f := w[0].Fields; f["old_values"] != "80" || f["values"] != "200" || f["function_name"] != "write_single_register" {
		t.Errorf("write fields %v", f)
	}
	if f := w[3].Fields; f["old_values"] != "0" || f["values"] != "1" || f["function_name"] != "write_single_coil" {
		t.Errorf("coil write fields %v", f)
	}
}
