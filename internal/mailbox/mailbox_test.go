package mailbox

import (
	"bytes"
	"net/mail"
	"reflect"
	"strings"
	"testing"
	"time"

	"decnet/internal/service"
)

var host = service.Host{Name: "decky-04", Hostname: "mail-33", IP: "192.168.40.14", Distro: "debian", OS: "linux"}

func TestInboxIsTenParseableMessages(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	box := Inbox(host, "admin", now)
	if len(box.Messages) != 10 {
		t.Fatalf("%d messages, want 10", len(box.Messages))
	}
	prev := uint32(0)
	for i, m := range box.Messages {
		if m.UID <= prev {
			t.Errorf("message %d: UID %d not above %d", i, m.UID, prev)
		}
		prev = m.UID
		if !m.Date.Before(now) {
			t.Errorf("message %d dated %v, not before now", i, m.Date)
		}
		if bytes.Contains(bytes.ReplaceAll(m.Raw, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("message %d has a bare LF", i)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got := msg.Header.Get("To"); got != "admin@corp-internal.com" {
			t.Errorf("message %d: To %q", i, got)
		}
		if !bytes.Equal(append(m.Header(), m.Body()...), m.Raw) || !bytes.HasSuffix(m.Header(), []byte("\r\n\r\n")) {
			t.Errorf("message %d: header/body split wrong", i)
		}
		if m.Size() != len(m.Raw) {
			t.Errorf("message %d: size %d", i, m.Size())
		}
		for _, tell := range []string{"decnet", "golang", "EXAMPLE"} {
			if bytes.Contains(bytes.ToLower(m.Raw), []byte(strings.ToLower(tell))) {
				t.Errorf("message %d contains %q", i, tell)
			}
		}
	}
	if box.UIDNext <= prev {
		t.Errorf("UIDNEXT %d not above the last UID %d", box.UIDNext, prev)
	}
	subjects := ""
	for _, m := range box.Messages {
		subjects += string(m.Header())
	}
	for _, want := range []string{"AWS access key rotation", "Production DB password", "personal access token",
		"VPN configuration", "root password", "backup job", "SSH brute force", "Live API key", "MFA", "AWS Billing"} {
		if !strings.Contains(subjects, want) {
			t.Errorf("no message about %q", want)
		}
	}
}

func TestInboxIsStablePerDeckyAndDiffersAcrossDeckies(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	a := Inbox(host, "admin", now)
	if b := Inbox(host, "admin", now.Add(5*time.Hour)); !reflect.DeepEqual(a, b) {
		t.Error("the mailbox changed between two sessions hours apart")
	}
	a.Messages[0].Flags = append(a.Messages[0].Flags, `\Deleted`)
	if c := Inbox(host, "admin", now); len(c.Messages[0].Flags) != 1 {
		t.Error("a session's flag change reached another session's copy")
	}
	other := host
	other.Name = "decky-05"
	o := Inbox(other, "admin", now)
	if bytes.Equal(o.Messages[0].Body(), Inbox(host, "admin", now).Messages[0].Body()) {
		t.Error("two deckies have the same AWS key")
	}
	if r := Inbox(host, "root", now); !strings.Contains(string(r.Messages[0].Header()), "To: root@corp-internal.com") {
		t.Error("root's mailbox is not addressed to root")
	}
	dom := host
	dom.Hostname = "mx2.acme-logistics.de"
	if got := Domain(dom); got != "acme-logistics.de" {
		t.Errorf("Domain = %q", got)
	}
}

func TestParseUsers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Users
		err  string
	}{
		{defaultUsers, Users{"admin": "admin123", "root": "toor", "mail": "mail", "user": "user"}, ""},
		{" bob:pa:ss , amy:,", Users{"bob": "pa:ss", "amy": ""}, ""},
		{"bob", nil, "want user:password"},
		{":x", nil, "want user:password"},
		{"a:1,a:2", nil, "listed twice"},
		{"a b:1", nil, "may not hold"},
		{"a:1\r\nb:2", nil, "line break"},
		{" , ", nil, "none listed"},
	} {
		got, err := ParseUsers(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseUsers(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if tc.want == nil {
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseUsers(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	u := DefaultUsers()
	if !u.Check("root", "toor") || u.Check("root", "Toor") || u.Check("nobody", "") {
		t.Error("Check")
	}
	if got := strings.Join(u.Names(), ","); got != "admin,mail,root,user" {
		t.Errorf("Names = %s", got)
	}
}

func FuzzParseUsers(f *testing.F) {
	f.Add(defaultUsers)
	f.Add("a:b:c,,d:")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUsers(s)
		if err != nil {
			return
		}
		for name, pass := range u {
			if name == "" || strings.ContainsAny(name, " \r\n@") || strings.ContainsAny(pass, "\r\n") {
				t.Fatalf("accepted %q:%q", name, pass)
			}
			if !u.Check(name, pass) {
				t.Fatalf("%q does not log in with its own password", name)
			}
		}
	})
}
