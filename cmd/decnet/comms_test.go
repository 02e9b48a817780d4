package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/store"
	"decnet/internal/testutil"
)

const commsFleet = `# the mail, voice, IoT/ICS and name-resolution honeypots, for the test through the store
[mail]
services = smtp, imap, pop3
[relay]
services = smtp_relay
[pbx]
services = sip
[pbx.sip]
users = 100:secret
[plant]
services = conpot, mqtt
[printer]
archetype = printer
[dc]
services = llmnr
`

// TestCommsServicesThroughStore attacks the mail, voice, IoT/ICS and
// name-resolution honeypots of a `decnet up` fleet with their real clients
// and checks what reaches the store: each login's credential or crackable
// material as a bounty, and the intent events (mail relayed, mailbox read,
// PLC setpoint written, pump commanded, name asked) with the attacker's
// address.
func TestCommsServicesThroughStore(t *testing.T) {
	tools := map[string]string{}
	for _, name := range []string{"swaks", "curl", "svcrack", "sipsak", "mosquitto_pub", "mosquitto_sub", "snmpget",
		"snmpwalk", "mbpoll", "dig", "nmblookup", "nbtscan"} {
		tools[name] = testutil.RequireTool(t, name)
	}
	py := testutil.RequireTool(t, "/usr/bin/python3")

	const base = "127.77.220.10"
	n, src, dir := attackedFleet(t, commsFleet, base, "127.77.220.0/24")
	ip := map[string]string{"mail": base, "relay": "127.77.220.11", "pbx": "127.77.220.12", "plant": "127.77.220.13",
		"printer": "127.77.220.14", "dc": "127.77.220.15"}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	attack := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, _ := cmd.CombinedOutput() // refused logins exit non-zero
		return string(out)
	}
	at := func(decky, svc string) string { return ip[decky] + ":" + n.port(decky, svc) }

	// A spammer's credential stuffing, then the relay test with a payload.
	attack(tools["swaks"], "--server", at("mail", "smtp"), "--to", "bob@corp-internal.com", "--auth", "LOGIN",
		"--auth-user", "alice", "--auth-password", "Spring2026!", "--quit-after", "AUTH")
	msg := filepath.Join(dir, "msg.txt")
	if err := os.WriteFile(msg, []byte("Subject: hi\r\n\r\nhello\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	attack(tools["curl"], "-sk", "--ssl-reqd", "smtp://"+at("mail", "smtp"), "-u", "carol:Summer2026!",
		"--mail-from", "carol@corp-internal.com", "--mail-rcpt", "bob@corp-internal.com", "-T", msg)
	payloadFile := filepath.Join(dir, "invoice.pdf")
	payloadBytes := []byte("%PDF-1.4 not really an invoice " + time.Now().String())
	if err := os.WriteFile(payloadFile, payloadBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payloadBytes)
	relayed := attack(tools["swaks"], "--server", at("relay", "smtp_relay"), "--from", "billing@paypa1-secure.example",
		"--to", "victim@gmail.com", "--header", "Subject: Invoice overdue", "--attach-type", "application/pdf", "--attach", "@"+payloadFile)
	if !strings.Contains(relayed, "250 2.0.0 Ok: queued as") {
		t.Errorf("the open relay did not report the message delivered:\n%s", relayed)
	}
	// Mailbox access with the weak accounts, reading the bait.
	attack(tools["curl"], "-s", "-u", "admin:admin123", "imap://"+at("mail", "imap")+"/INBOX/;MAILINDEX=5")
	attack(tools["curl"], "-s", "-u", "root:toor", "pop3://"+at("mail", "pop3")+"/1")
	// SIP password cracking against a weak extension.
	words := filepath.Join(dir, "words.txt")
	if err := os.WriteFile(words, []byte("1234\nsecret\n100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	attack(tools["svcrack"], "-u100", "-d", words, "-p", n.port("pbx", "sip"), ip["pbx"])
	attack(tools["sipsak"], "-U", "--expires=300", "-s", "sip:101@"+ip["pbx"], "-a", "guess101", "-u", "101")
	// IoT/ICS: a broker login that commands a pump, a PLC setpoint write.
	attack(tools["mosquitto_pub"], "-h", ip["plant"], "-p", n.port("plant", "mqtt"), "-V", "mqttv311", "-u", "operator",
		"-P", "plant2026", "-q", "1", "-t", "plant/water/pump1/set", "-m", "OFF")
	attack(tools["mosquitto_sub"], "-h", ip["plant"], "-p", n.port("plant", "mqtt"), "-V", "mqttv5", "-u", "scada",
		"-P", "scada-pw", "-t", "#", "-C", "1", "-W", "5")
	attack(tools["mbpoll"], "-m", "tcp", "-a", "1", "-r", "3", "-t", "4", "-1", "-p", n.port("plant", "conpot"), ip["plant"], "150")
	attack(py, "-c", `import sys
from pymodbus.client import ModbusTcpClient as C
from pymodbus.mei_message import ReadDeviceInformationRequest
c = C(sys.argv[1], port=int(sys.argv[2]), timeout=3, retries=0)
c.connect()
c.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, slave=1))
c.close()`, ip["plant"], n.port("plant", "conpot"))
	// SNMP: a community guess and a v3 login.
	sysDescr := attack(tools["snmpget"], "-v2c", "-c", "public", "-On", "-t", "2", "-r", "1", at("printer", "snmp"), "1.3.6.1.2.1.1.1.0")
	if !strings.Contains(sysDescr, "HP") {
		t.Errorf("the printer decky's SNMP agent does not describe an HP printer: %s", sysDescr)
	}
	attack(tools["snmpwalk"], "-v2c", "-c", "private", "-On", "-t", "2", "-r", "1", at("printer", "snmp"), "1.3.6.1.2.1.1")
	attack(tools["snmpget"], "-v3", "-l", "authNoPriv", "-u", "bob", "-a", "SHA", "-A", "bobpass123", "-t", "2", "-r", "1",
		at("printer", "snmp"), "1.3.6.1.2.1.1.5.0")
	// LLMNR: the name a Windows host asks for before a poisoner answers.
	attack(tools["dig"], "+tries=1", "+time=2", "-p", n.port("dc", "llmnr"), "@"+ip["dc"], "WPAD")
	attack(tools["dig"], "+tries=1", "+time=2", "-p", n.port("dc", "llmnr/5353"), "@"+ip["dc"], "_services._dns-sd._udp.local", "PTR")
	// NetBIOS tools always ask on 137, where the decky listens as root.
	if n.port("dc", "llmnr/137") == "137" {
		attack(tools["nmblookup"], "-A", ip["dc"])
		attack(tools["nbtscan"], ip["dc"])
	}

	// One host, one snakeoil: the mail decky's implicit-TLS ports (three
	// services, one process each under the docker runtime) present the
	// same certificate, as Postfix and Dovecot on one Debian host do.
	var certs []string
	for _, svc := range []string{"smtp/465", "imap/993", "pop3/995"} {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", at("mail", svc), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("%s: %v", svc, err)
		}
		certs = append(certs, hex.EncodeToString(c.ConnectionState().PeerCertificates[0].Raw))
		c.Close()
	}
	if certs[0] != certs[1] || certs[1] != certs[2] {
		t.Error("the mail decky's smtp, imap and pop3 present different certificates")
	}

	token := n.token()
	from := func(l store.Log) bool { return l.AttackerIP == src }
	type check struct {
		what, search string
		match        func(store.Log) bool
	}
	checks := []check{
		{"relayed message", "service:smtp_relay event:message", func(l store.Log) bool {
			return strings.Contains(l.Fields["rcpt_to"], "victim@gmail.com") && l.Fields["subject"] == "Invoice overdue"
		}},
		{"relayed attachment", "service:smtp_relay event:file_captured", func(l store.Log) bool {
			return l.Fields["sha256"] == hex.EncodeToString(sum[:]) && l.Fields["filename"] == "invoice.pdf"
		}},
		{"imap bait read", "service:imap event:fetch", func(l store.Log) bool {
			return strings.Contains(l.Fields["subjects"], "root password")
		}},
		{"pop3 bait read", "service:pop3 event:retr", func(l store.Log) bool {
			return l.Fields["message"] == "1" && strings.Contains(l.Fields["subject"], "AWS access key rotation")
		}},
		{"svcrack user agent", "service:sip event:request", func(l store.Log) bool {
			return l.Fields["user_agent"] == "friendly-scanner" && l.Fields["scanner"] == "sipvicious"
		}},
		{"pump commanded over mqtt", "service:mqtt event:publish", func(l store.Log) bool {
			return l.Fields["topic"] == "plant/water/pump1/set" && l.Fields["attack"] == "device_control" && l.Severity == int(event.Critical)
		}},
		{"PLC setpoint written", "service:conpot event:modbus_write", func(l store.Log) bool {
			return l.Fields["address"] == "2" && strings.Contains(l.Fields["tags"], "SP") && l.Severity == int(event.Critical)
		}},
		{"llmnr query", "service:llmnr event:query", func(l store.Log) bool {
			return l.Fields["proto"] == "llmnr" && l.Fields["name"] == "WPAD"
		}},
		{"mdns query", "service:llmnr event:query", func(l store.Log) bool {
			return l.Fields["proto"] == "mdns" && strings.TrimSuffix(l.Fields["name"], ".") == "_services._dns-sd._udp.local"
		}},
		{"PLC identified", "service:conpot event:device_id", func(l store.Log) bool { return l.Fields["read_code"] != "" }},
		{"sipsak register", "service:sip event:auth", func(l store.Log) bool {
			return l.Fields["username"] == "101" && l.Fields["user_agent"] != "" && l.Fields["success"] == "false"
		}},
		{"snmpwalk", "service:snmp event:request", func(l store.Log) bool {
			return l.Fields["community"] == "private" && strings.Contains(l.Fields["pdu"], "next")
		}},
	}
	if n.port("dc", "llmnr/137") == "137" {
		checks = append(checks, check{"netbios node status", "service:llmnr event:query", func(l store.Log) bool {
			return l.Fields["proto"] == "nbns" && l.Fields["name"] == "*"
		}})
	}
	for _, c := range checks {
		if findLog(n.logs(token, c.search), func(l store.Log) bool { return from(l) && c.match(l) }) == nil {
			t.Errorf("%s: no matching %q log from %s", c.what, c.search, src)
		}
	}
	for _, want := range []struct {
		service string
		match   func(map[string]any) bool
	}{
		{"smtp", payload(map[string]string{"username": "alice", "password": "Spring2026!"})},
		{"smtp", payload(map[string]string{"username": "carol", "password": "Summer2026!"})},
		{"imap", payload(map[string]string{"username": "admin", "password": "admin123"})},
		{"pop3", payload(map[string]string{"username": "root", "password": "toor"})},
		{"sip", func(p map[string]any) bool {
			return p["username"] == "100" && p["hash_format"] == "sip-digest-md5 (hashcat 11400)" &&
				strings.HasPrefix(fmt.Sprint(p["hash"]), "$sip$*")
		}},
		{"sip", payload(map[string]string{"username": "100", "password": "secret"})},
		{"mqtt", payload(map[string]string{"username": "operator", "password": "plant2026"})},
		{"mqtt", payload(map[string]string{"username": "scada", "password": "scada-pw"})},
		{"snmp", payload(map[string]string{"token": "public", "token_type": "snmp_community"})},
		{"snmp", func(p map[string]any) bool {
			return p["username"] == "bob" && p["hash_format"] == "snmpv3 (hashcat 25000)" && strings.HasPrefix(fmt.Sprint(p["hash"]), "$SNMPv3$")
		}},
	} {
		if !n.bounty(token, want.service, src, want.match) {
			t.Errorf("no %s credential bounty from %s", want.service, src)
		}
	}
	n.stop()
}
