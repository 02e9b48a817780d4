package llmnr

import (
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// TTLs of the answers: Windows gives LLMNR answers 30 s; Avahi gives host
// records 120 s and service records 75 minutes; a legacy unicast answer
// (to a client not on port 5353) is capped at 10 s (RFC 6762 §6.7).
const (
	ttlLLMNR        = 30
	ttlMDNSHost     = 120
	ttlMDNSService  = 4500
	ttlLegacyUnicst = 10
)

// mDNS class bits: the top bit of a question's class asks for a unicast
// answer (QU); of a record's class, it tells caches to flush.
const (
	mdnsQU         = 0x8000
	mdnsCacheFlush = 0x8000
)

// maxAnswer bounds the answer records of an mDNS reply (bytes).
const maxAnswer = 512

// maxQuestions bounds the questions of one datagram that are recorded
// and answered: mDNS browsers ask a dozen at once, floods ask thousands.
const maxQuestions = 16

// The DNS-SD names an Avahi host publishes.
const (
	dnssdServices   = "_services._dns-sd._udp.local."
	dnssdWorkstaton = "_workstation._tcp.local."
	dnssdSSH        = "_ssh._tcp.local."
)

// qtypeName is the name of a query type, TYPE<n> for unknown ones.
func qtypeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// answerLLMNR is the reply to an LLMNR query, or nil: a responder answers
// only a standard query of one question for a name it owns (RFC 4795
// §2.1.1); it then answers even when it has no record of the type.
func (id identity) answerLLMNR(q *dns.Msg) *dns.Msg {
	if q.Response || q.Opcode != dns.OpcodeQuery || len(q.Question) != 1 {
		return nil
	}
	qq := q.Question[0]
	if qq.Qclass != dns.ClassINET && qq.Qclass != dns.ClassANY || !id.ownsDNS(qq.Name) {
		return nil
	}
	r := &dns.Msg{MsgHdr: dns.MsgHdr{Id: q.Id, Response: true, Opcode: dns.OpcodeQuery}, Question: []dns.Question{qq}}
	if (qq.Qtype == dns.TypeA || qq.Qtype == dns.TypeANY) && id.ip.IsValid() {
		r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttlLLMNR},
			A: net.IP(id.ip.AsSlice())})
	}
	return r
}

// answerMDNS is the reply to an mDNS query, or nil when the decky owns
// none of the names asked. legacy is a query from a port other than 5353,
// answered as a unicast DNS server would (RFC 6762 §6.7).
func (id identity) answerMDNS(q *dns.Msg, legacy bool) *dns.Msg {
	if id.mdns == styleNone || q.Response || q.Opcode != dns.OpcodeQuery {
		return nil
	}
	r := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}}
	seen := map[string]bool{}
	for _, qq := range q.Question[:min(len(q.Question), maxQuestions)] {
		for _, rr := range id.mdnsRecords(qq.Name, qq.Qtype) {
			// A question asked twice gets its answer once, and the
			// answers stay within a DNS datagram: the source of a
			// unicast query is not verified, so no amplification.
			if k := rr.String(); !seen[k] && r.Len()+dns.Len(rr) <= maxAnswer {
				seen[k] = true
				r.Answer = append(r.Answer, rr)
			}
		}
	}
	if len(r.Answer) == 0 {
		return nil
	}
	if legacy {
		r.Id = q.Id
		r.Question = q.Question[:min(len(q.Question), maxQuestions)]
	}
	for _, rr := range r.Answer {
		h := rr.Header()
		if legacy {
			h.Ttl = min(h.Ttl, ttlLegacyUnicst)
		} else if h.Rrtype != dns.TypePTR {
			h.Class |= mdnsCacheFlush // records only this host owns
		}
	}
	return r
}

// mdnsRecords are the decky's records for one question.
func (id identity) mdnsRecords(name string, qtype uint16) []dns.RR {
	host := dns.Fqdn(id.label + ".local")
	want := func(t uint16) bool { return qtype == t || qtype == dns.TypeANY }
	var out []dns.RR
	if id.ownsLocal(name) && want(dns.TypeA) && id.ip.IsValid() {
		out = append(out, &dns.A{Hdr: hdr(host, dns.TypeA, ttlMDNSHost), A: net.IP(id.ip.AsSlice())})
	}
	if id.mdns != styleAvahi {
		return out
	}
	ws := dns.Fqdn(id.workstationInstance() + "." + dnssdWorkstaton)
	ssh := dns.Fqdn(id.label + "." + dnssdSSH)
	lname := strings.ToLower(name)
	switch {
	case lname == dnssdServices && want(dns.TypePTR):
		for _, svc := range []string{dnssdWorkstaton, dnssdSSH} {
			out = append(out, &dns.PTR{Hdr: hdr(dnssdServices, dns.TypePTR, ttlMDNSService), Ptr: svc})
		}
	case lname == dnssdWorkstaton && want(dns.TypePTR):
		out = append(out, &dns.PTR{Hdr: hdr(dnssdWorkstaton, dns.TypePTR, ttlMDNSService), Ptr: ws})
	case lname == dnssdSSH && want(dns.TypePTR):
		out = append(out, &dns.PTR{Hdr: hdr(dnssdSSH, dns.TypePTR, ttlMDNSService), Ptr: ssh})
	case strings.EqualFold(name, ws):
		out = append(out, instanceRecords(ws, host, 9, want)...)
	case strings.EqualFold(name, ssh):
		out = append(out, instanceRecords(ssh, host, 22, want)...)
	}
	return out
}

// instanceRecords are a DNS-SD instance's SRV and (empty) TXT records.
func instanceRecords(inst, host string, port uint16, want func(uint16) bool) []dns.RR {
	var out []dns.RR
	if want(dns.TypeSRV) {
		out = append(out, &dns.SRV{Hdr: hdr(inst, dns.TypeSRV, ttlMDNSHost), Port: port, Target: host})
	}
	if want(dns.TypeTXT) {
		out = append(out, &dns.TXT{Hdr: hdr(inst, dns.TypeTXT, ttlMDNSService), Txt: []string{""}})
	}
	return out
}

// workstationInstance is Avahi's workstation service name: the host name
// and its MAC in brackets.
func (id identity) workstationInstance() string {
	return fmt.Sprintf("%s [%s]", id.label, id.mac)
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}
