package telnet

import (
	"slices"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/service"
)

// TestProduct checks the product a decky gets: busybox on an embedded one
// unless the persona says otherwise, with its own retries and keys.
func TestProduct(t *testing.T) {
	tests := []struct {
		name    string
		keys    map[string]string
		os      string
		want    string
		retries int
		wantErr bool
	}{
		{"linux default", nil, "linux", Inetutils, 5, false},
		{"embedded default", nil, "embedded", Busybox, 3, false},
		{"bsd default", nil, "bsd", Inetutils, 5, false},
		{"embedded inetutils", map[string]string{"product": "inetutils"}, "embedded", Inetutils, 5, false},
		{"linux busybox", map[string]string{"product": "busybox", "retries": "4"}, "linux", Busybox, 4, false},
		{"unknown", map[string]string{"product": "netkit"}, "linux", "", 0, true},
		{"busybox hostinfo", map[string]string{"product": "busybox", "no_hostinfo": "true"}, "linux", "", 0, true},
		{"busybox bypass", map[string]string{"product": "busybox", "env_user_bypass": "true"}, "linux", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := service.NewPersona(Service{}.Info(), tc.keys)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			srv, _ := newTestServerOn(t, p.(*Persona), "alpine", tc.os)
			if srv.product != tc.want || srv.persona.retries(srv.product) != tc.retries {
				t.Errorf("product %s, retries %d", srv.product, srv.persona.retries(srv.product))
			}
		})
	}
}

// TestBusyboxSession logs in to the busybox persona like a bot: the
// negotiation event carries what the client answered to options busybox
// ignores, then a failed and a good login and a command are recorded.
func TestBusyboxSession(t *testing.T) {
	_, ev, addr := serve(t, &Persona{Product: Busybox, Password: "s3cret"})
	b := dialBot(t, addr)
	if got := b.expect("vm login: "); got != "\r\r\nvm login: " {
		t.Fatalf("before the prompt: %q", got)
	}
	b.send("root\r\n")
	b.expect("Password: ")
	b.send("nope\r\n")
	if got := b.expect("vm login: "); got != "\r\nLogin incorrect\r\nvm login: " {
		t.Fatalf("after a wrong password: %q", got)
	}
	b.send("root\r\n")
	b.expect("Password: ")
	b.send("s3cret\r\n")
	b.expect("vm:~# ")
	b.send("id\r\n")
	if got := b.expect("vm:~# "); !strings.Contains(got, "uid=0(root)") {
		t.Errorf("id printed %q", got)
	}
	neg := ev.OfType("negotiation")
	if len(neg) != 1 || neg[0].Fields["client_will"] != "NAWS" || neg[0].Fields["client_do"] != "ECHO,SGA" ||
		neg[0].Fields["window"] != "100x30" {
		t.Errorf("negotiation %v", neg)
	}
	if got := fieldsOf(ev, event.TypeAuth, event.FieldSuccess); !slices.Equal(got, []string{"false", "true"}) {
		t.Errorf("success %q", got)
	}
	if got := fieldsOf(ev, event.TypeCommand, event.FieldCommand); !slices.Equal(got, []string{"id"}) {
		t.Errorf("commands %q", got)
	}
}
