package mailbox

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// Alphabets of the generated secrets.
const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexDigits   = "0123456789abcdef"
	queueChars  = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
)

// gen draws one decky's bait: the same decky gets the same secrets, hosts
// and dates every time.
type gen struct {
	r      *rand.Rand
	h      service.Host
	user   string
	domain string
	net    [3]byte // the first three octets of the organisation's server LAN
	anchor time.Time
}

func newGen(h service.Host, user string, now time.Time) *gen {
	f := fnv.New64a()
	f.Write([]byte(h.Name + "|mailbox"))
	g := &gen{
		r: rand.New(rand.NewPCG(f.Sum64(), 0x6d61696c)), h: h, user: user, domain: Domain(h),
		// Mail stopped arriving a day and a half after the machine last
		// booted, which is at least two days ago: every date is in the past
		// and none moves while the decky stays up.
		anchor: archetype.Boot(h.Name, now).Add(36 * time.Hour),
	}
	g.net = g.lan()
	return g
}

// lan is the organisation's server network: the decky's own /24 when it
// sits on a private network, else one drawn for the decky.
func (g *gen) lan() [3]byte {
	if a, err := netip.ParseAddr(g.h.IP); err == nil && a.Is4() && a.IsPrivate() {
		b := a.As4()
		return [3]byte{b[0], b[1], b[2]}
	}
	return [3]byte{10, byte(g.r.IntN(64)), byte(1 + g.r.IntN(30))}
}

// host is an address on the organisation's server network.
func (g *gen) host() string {
	return fmt.Sprintf("%d.%d.%d.%d", g.net[0], g.net[1], g.net[2], 2+g.r.IntN(250))
}

func (g *gen) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) pick(choices ...string) string { return choices[g.r.IntN(len(choices))] }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

// password is a password of the kind people set when told to change one.
func (g *gen) password(year int) string {
	word := g.pick("Winter", "Summer", "Spring", "Autumn", "Welcome", "Company", "Changeme", "Passw0rd", "Admin", "Backup")
	return fmt.Sprintf("%s%d%s", word, year, g.pick("!", "#", "!!", "$", "@1", "*"))
}

// bait is one message's content before it is dated and numbered.
type bait struct {
	fromName, from, subject, body string
	age                           time.Duration // before the anchor
	flags                         []string
}

// build makes the user's INBOX.
func build(h service.Host, user string, now time.Time) *Box {
	g := newGen(h, user, now)
	baits := g.baits()
	box := &Box{UIDValidity: uint32(g.anchor.Add(-time.Duration(200+g.r.IntN(400)) * 24 * time.Hour).Unix())}
	uid := uint32(40 + g.r.IntN(900))
	for _, b := range baits {
		date := g.anchor.Add(-b.age).Add(-time.Duration(g.r.IntN(3600)) * time.Second)
		box.Messages = append(box.Messages, Message{
			UID: uid, Flags: b.flags, Date: date, Raw: g.render(b, date),
		})
		uid += uint32(1 + g.r.IntN(4)) // mail read and deleted in between
	}
	box.UIDNext = uid
	return box
}

// render writes b as delivered to the decky: Postfix's trace headers, then
// the sender's headers, with CRLF line endings.
func (g *gen) render(b bait, date time.Time) []byte {
	rcpt := g.user + "@" + g.domain
	hostname := g.h.Hostname
	if hostname == "" {
		hostname = "mail"
	}
	received := date.Add(time.Duration(1+g.r.IntN(9)) * time.Second) // sent, then relayed
	relay := g.pick("mx1", "mx01", "smtp", "relay", "mailgw") + "." + g.domain
	var s strings.Builder
	fmt.Fprintf(&s, "Return-Path: <%s>\r\n", b.from)
	fmt.Fprintf(&s, "Delivered-To: %s\r\n", rcpt)
	fmt.Fprintf(&s, "Received: from %s (%s [%s])\r\n\tby %s (Postfix) with ESMTPS id %s\r\n\tfor <%s>; %s\r\n",
		relay, relay, g.host(), hostname, g.chars(11, queueChars), rcpt, received.Format(time.RFC1123Z))
	fmt.Fprintf(&s, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&s, "From: %s <%s>\r\n", b.fromName, b.from)
	fmt.Fprintf(&s, "To: %s\r\n", rcpt)
	fmt.Fprintf(&s, "Subject: %s\r\n", b.subject)
	_, senderDomain, _ := strings.Cut(b.from, "@")
	fmt.Fprintf(&s, "Message-ID: <%s.%s@%s>\r\n", date.UTC().Format("20060102150405"), g.chars(12, hexDigits), senderDomain)
	s.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	s.WriteString(strings.ReplaceAll(strings.TrimLeft(b.body, "\n"), "\n", "\r\n"))
	return []byte(s.String())
}

var (
	seen    = []string{`\Seen`}
	flagged = []string{`\Seen`, `\Flagged`}
)

// baits are the original's ten messages, oldest first.
func (g *gen) baits() []bait {
	d := g.domain
	year := g.anchor.Year()
	day := 24 * time.Hour
	akid := "AKIA" + g.chars(16, upperDigits)
	secret := g.chars(40, alnum+"/+")
	dbHost, dbPass := g.host(), g.pick("Sup3rS3cr3t!", "Pr0d#DB"+g.digits(2), "db_"+g.chars(6, alnum)+"!")
	ghp := "ghp_" + g.chars(36, alnum)
	vpnGW := g.pick("vpn", "remote", "gw", "access") + "." + d
	vpnPass := g.pick("VpnP@ss", "Remote#", "Acc3ss!") + fmt.Sprint(year)
	rootPass := g.pick("r00tM3T00!", "T0ps3cr3t#", "R00t!"+g.digits(4), "Adm1n"+g.digits(3)+"!")
	nas := g.host()
	attacker := fmt.Sprintf("%d.%d.%d.%d", 45+g.r.IntN(150), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	vendorKey := "sk_live_" + g.chars(24, alnum)
	mfaPass := g.password(year)
	account := g.digits(12)
	bill := fmt.Sprintf("%d.%02d", 300+g.r.IntN(1500), g.r.IntN(100))
	short := strings.ToUpper(strings.SplitN(g.h.Hostname, ".", 2)[0])
	if short == "" {
		short = "MAIL"
	}
	return []bait{
		{"IT Operations", "it-ops@" + d, "AWS access key rotation - action required", fmt.Sprintf(`
Hi,

As part of the quarterly rotation the deployment user's access key has been
replaced. Update your local ~/.aws/credentials before Friday:

[default]
aws_access_key_id = %s
aws_secret_access_key = %s
region = us-east-1

The old key will be deactivated at the end of the week.

--
IT Operations
`, akid, secret), 24 * day, seen},
		{"Database Team", "dba@" + d, "Production DB password changed", fmt.Sprintf(`
The admin password of the production database was changed this morning.
New connection string for the application servers:

  mysql://admin:%s@%s:3306/production

Please do not paste it into tickets. Ping us on the usual channel if a
service fails to reconnect.

DBA team
`, dbPass, dbHost), 21 * day, seen},
		{"GitHub", "noreply@github.com", "[GitHub] A new personal access token was added to your account", fmt.Sprintf(`
Hey %s!

A personal access token (classic) "deploy-ci" with repo, workflow and
write:packages scopes was recently added to your account.

For the CI runner, as discussed:
%s

If this was not you, revoke the token at
https://github.com/settings/tokens

Thanks,
The GitHub Team
`, g.user, ghp), 18 * day, seen},
		{"Network Admin", "netadmin@" + d, "VPN configuration for remote access", fmt.Sprintf(`
Hi,

Your remote access profile is ready.

Gateway:  %s
Protocol: IKEv2 (or OpenVPN on udp/1194 as fallback)
Username: vpnadmin
Password: %s

The profile file is on the file server under IT\VPN. Please change the
password after the first login.

Regards,
Network team
`, vpnGW, vpnPass), 15 * day, seen},
		{"Sysadmin", "sysadmin@" + d, "root password for " + short, fmt.Sprintf(`
Putting this here until the vault migration is done.

host: %s
user: root
pass: %s

Delete this mail once you've stored it.
`, g.h.Hostname, rootPass), 12 * day, flagged},
		{"Backup Daemon", "backup@" + d, "[FAILED] Nightly backup job nas-sync", fmt.Sprintf(`
Job:       nas-sync (nightly)
Target:    //%s/backups
Status:    FAILED (exit code 23)
Duration:  00:41:17

rsync: [receiver] mkstemp failed: No space left on device (28)
rsync error: some files/attrs were not transferred (code 23)

Credentials used: backup / %s
This is an automated message.
`, nas, g.password(year-1)), 9 * day, seen},
		{"Security Monitoring", "security@" + d, "ALERT: SSH brute force attempts detected", fmt.Sprintf(`
Severity: HIGH
Host:     %s
Source:   %s
Events:   %d failed password attempts for root in 10 minutes

The source was added to the deny list. Review /var/log/auth.log and make
sure password authentication is disabled where it is not needed.

-- Security Monitoring
`, g.h.Hostname, attacker, 300+g.r.IntN(4000)), 6 * day, seen},
		{"Vendor Integrations", "integrations@" + d, "Live API key for the payment gateway", fmt.Sprintf(`
Hi,

The vendor enabled production mode for us. The live secret key is:

  %s

Keep it out of the repository: it goes into the payments service
environment only.

Thanks
`, vendorKey), 4 * day, nil},
		{"Helpdesk", "helpdesk@" + d, "Your MFA has been reset", fmt.Sprintf(`
Hello %s,

As requested, your multi-factor authentication has been reset and a
temporary password set on your account:

  %s

You will be asked to enrol a new device and change the password at your
next sign-in.

IT Helpdesk
`, g.user, mfaPass), 2 * day, nil},
		{"Amazon Web Services", "no-reply-aws@amazon.com", "AWS Billing: your invoice is available", fmt.Sprintf(`
Greetings from Amazon Web Services,

This e-mail confirms that your latest billing statement is available on
the AWS web site.

Account ID: %s
Amount due: USD %s

You can view your invoice in the Billing and Cost Management console.

Sincerely,
Amazon Web Services
`, account, bill), 10 * time.Hour, nil},
	}
}
