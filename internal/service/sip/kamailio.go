package sip

import (
	"crypto/md5"
	"encoding/hex"
	"hash/crc32"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kamailioServer is Debian 12's kamailio 5.6.3-2 on amd64.
const kamailioServer = "kamailio (5.6.3 (x86_64/linux))"

// kamailioScanners is the stock kamailio.cfg's REQINIT filter: requests
// whose User-Agent matches it are dropped without a reply.
var kamailioScanners = regexp.MustCompile(`friendly|scanner|sipcli|sipvicious|VaxSIPUserAgent|pplsip`)

// kamailioRetransmit is tm's schedule for a negative final INVITE reply
// over UDP, as measured: 0.5, 1.5 and 3.5 s after the first.
var kamailioRetransmit = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}

// Bounds of the INVITE transactions a CANCEL can find.
const (
	maxKamailioTx = 1024
	kamailioTxTTL = 5 * time.Second
)

// kamailio answers as Debian's kamailio 5.6.3 with the stock
// kamailio.cfg (no auth, no database, usrloc in memory).
type kamailio struct {
	server string
	// slTag and tmTag are the fixed parts of the To tags of stateless
	// (sl) and transaction (tm) replies; kamailio derives them from its
	// listening sockets, so they are a decky's own and stable.
	slTag, tmTag string
	// deckyIP and hostname are the decky's address and name: myself,
	// like the listening addresses (kamailio's auto_aliases).
	deckyIP, hostname string

	mu        sync.Mutex
	txs       map[string]kamailioTx // INVITE transactions by Call-ID and branch
	lastSweep time.Time
}

type kamailioTx struct {
	toTag string
	at    time.Time
}

func newKamailio(p *Persona, deckyName, hostname, ip string) *kamailio {
	server := p.Server
	if server == "" {
		server = kamailioServer
	}
	sum := func(s string) string {
		h := md5.Sum([]byte(deckyName + "\x00" + ip + "\x00" + s))
		return hex.EncodeToString(h[:])
	}
	return &kamailio{server: server, slTag: sum("sl"), tmTag: sum("tm"),
		deckyIP: ip, hostname: hostname, txs: map[string]kamailioTx{}}
}

// isMyself is kamailio's `uri==myself`: the host is an address the server
// listens on, or its decky's address or name.
func (k *kamailio) isMyself(r *request, host string) bool {
	if k.hostname != "" && strings.EqualFold(host, k.hostname) {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	return ip.Equal(net.ParseIP(r.localIP)) || ip.Equal(net.ParseIP(k.deckyIP))
}

func (k *kamailio) handle(r *request) []reply {
	m := r.msg
	method := strings.ToUpper(m.method)
	if kamailioScanners.MatchString(m.get("user-agent")) {
		r.fields[fieldStatus] = "dropped (scanner filter)"
		return nil
	}
	if mf := m.get("max-forwards"); mf != "" {
		if n, err := strconv.Atoi(mf); err == nil && n <= 0 {
			return k.reply(r, 483, "Too Many Hops", false)
		}
	}
	user, host := uriParts(m.uri)
	if method == "OPTIONS" && user == "" && k.isMyself(r, host) {
		return k.reply(r, 200, "Keepalive", false)
	}
	switch method {
	case "CANCEL":
		if tag, ok := k.transaction(r); ok {
			return k.build(r, 200, "canceling", tag, nil)
		}
		return nil
	case "ACK":
		return nil
	}
	if tagOf(m.get("to")) != "" {
		return k.reply(r, 404, "Not here", false)
	}
	if !k.isMyself(r, host) {
		return k.reply(r, 403, "Not relaying", false)
	}
	if method == "REGISTER" {
		return k.register(r)
	}
	if user == "" {
		return k.reply(r, 484, "Address Incomplete", false)
	}
	if method == "INVITE" {
		r.call = map[string]string{fieldDialled: user, fieldRequestURI: m.uri, fieldIntent: intentOf(user)}
		out := k.reply(r, 404, "Not Found", true)
		out[0].retransmit = kamailioRetransmit
		k.remember(r)
		return out
	}
	return k.reply(r, 404, "Not Found", true)
}

// register saves nothing lasting (the honeypot routes no calls) but
// answers as the registrar: every binding echoed with its expiry.
func (k *kamailio) register(r *request) []reply {
	m := r.msg
	expires := 3600
	if v, err := strconv.Atoi(m.get("expires")); err == nil {
		expires = v
	}
	var contacts []string
	for _, h := range m.all("contact") {
		for _, c := range splitContacts(h.value) {
			_, uri, params := nameAddr(c)
			e := expires
			if v, ok := param(params, "expires"); ok {
				if n, err := strconv.Atoi(v); err == nil {
					e = n
				}
			}
			if uri == "*" || uri == "" || e <= 0 {
				continue
			}
			contacts = append(contacts, "<"+uri+">;expires="+strconv.Itoa(min(e, 3600)))
		}
	}
	return k.build(r, 200, "OK", k.slTag+"."+k.suffix(r), contacts)
}

// reply is a reply with kamailio's tag: sl's for stateless replies, tm's
// for replies from a transaction.
func (k *kamailio) reply(r *request, code int, text string, tm bool) []reply {
	tag := k.slTag + "." + k.suffix(r)
	if tm {
		tag = k.tmTag + "-" + k.suffix(r)
	}
	return k.build(r, code, text, tag, nil)
}

// build writes Via (rport and received filled in place), From, To,
// Call-ID, CSeq, Contact, Server, Content-Length, names as sent.
func (k *kamailio) build(r *request, code int, text, tag string, contacts []string) []reply {
	m := r.msg
	r.status(code, text)
	w := newResponse(code, text)
	first := true
	for _, h := range m.headers {
		switch canonical(h.name) {
		case "via":
			v := h.value
			if first {
				v = kamailioVia(v, r.srcIP, r.srcPort, r.transport == "TCP")
				first = false
			}
			w.header(h.name, v)
		}
	}
	for _, name := range []string{"from", "to", "call-id", "cseq"} {
		for _, h := range m.headers {
			if canonical(h.name) != name {
				continue
			}
			v := h.value
			if name == "to" {
				v = withTag(v, tag)
			}
			w.header(h.name, v)
			break
		}
	}
	for _, c := range contacts {
		w.header("Contact", c)
	}
	w.header("Server", k.server)
	return []reply{{data: w.end("Content-Length: 0")}}
}

// kamailioVia fills in the top Via as kamailio does: a bare rport gets
// the source port in place, and received is appended when rport was asked
// for or the sent-by host is not the source address. Over TCP the reply
// goes back on the connection, and rport is added when missing.
func kamailioVia(value, srcIP string, srcPort int, tcp bool) string {
	v, ok := parseVia(value)
	if !ok {
		return value
	}
	_, rport := v.get("rport")
	out := value
	if i := strings.IndexByte(out, ','); i >= 0 {
		out = out[:i]
	}
	if rport {
		for _, p := range v.params {
			if strings.EqualFold(p, "rport") {
				out = strings.Replace(out, ";"+p, ";rport="+strconv.Itoa(srcPort), 1)
				break
			}
		}
	}
	if !rport && tcp {
		out += ";rport=" + strconv.Itoa(srcPort)
		rport = true
	}
	if rport || v.host() != srcIP {
		out += ";received=" + srcIP
	}
	if i := strings.IndexByte(value, ','); i >= 0 {
		out += value[i:]
	}
	return out
}

// suffix is the per-request part of kamailio's To tags: a checksum of the
// request's Via branch, Call-ID and From tag.
func (k *kamailio) suffix(r *request) string {
	v, _ := parseVia(r.msg.get("via"))
	br, _ := v.get("branch")
	sum := crc32.ChecksumIEEE([]byte(br + "\x00" + r.msg.get("call-id") + "\x00" + tagOf(r.msg.get("from"))))
	return strconv.FormatUint(uint64(sum)|1<<32, 16)[1:]
}

// remember keeps an INVITE's transaction for the CANCEL that may follow.
func (k *kamailio) remember(r *request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.txs) >= maxKamailioTx {
		if r.now.Sub(k.lastSweep) < time.Second {
			return // a flood of INVITEs must not make each one a walk of the table
		}
		k.lastSweep = r.now
		for key, tx := range k.txs {
			if r.now.Sub(tx.at) > kamailioTxTTL {
				delete(k.txs, key)
			}
		}
		if len(k.txs) >= maxKamailioTx {
			return
		}
	}
	k.txs[k.txKey(r)] = kamailioTx{toTag: k.tmTag + "-" + k.suffix(r), at: r.now}
}

// transaction finds the INVITE a CANCEL names.
func (k *kamailio) transaction(r *request) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tx, ok := k.txs[k.txKey(r)]
	if !ok || r.now.Sub(tx.at) > kamailioTxTTL {
		return "", false
	}
	return tx.toTag, true
}

func (k *kamailio) txKey(r *request) string {
	v, _ := parseVia(r.msg.get("via"))
	br, _ := v.get("branch")
	return r.msg.get("call-id") + "\x00" + br
}
