package http

import (
	_ "embed"
	"fmt"
	"html"
	"net"
	"strconv"
	"strings"
	"time"
)

// product is the web server whose wire behaviour a persona copies.
type product int

const (
	apache product = iota
	nginx
	iis
)

// Keep-alive policy per product: Debian's apache2.conf (KeepAliveTimeout
// 5, MaxKeepAliveRequests 100), nginx's built-in keepalive_timeout 75s and
// keepalive_requests 1000, IIS's 120 s connectionTimeout. firstWait is how
// long a new connection may take to send its first request head: Debian's
// mod_reqtimeout (header=20-40), nginx's client_header_timeout, IIS's
// connectionTimeout. maxRequests is the request that gets Connection: close.
var keepAlive = [...]struct {
	idle, firstWait time.Duration
	maxRequests     int
}{
	apache: {5 * time.Second, 20 * time.Second, 101}, // 100 kept alive after the first
	nginx:  {75 * time.Second, 60 * time.Second, 1000},
	iis:    {120 * time.Second, 120 * time.Second, 0},
}

// dateFormat is RFC 9110's IMF-fixdate, which all three products send.
const dateFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// reason is the status line text each product uses.
func (p product) reason(status int) string {
	switch p {
	case nginx:
		switch status {
		case 302:
			return "Moved Temporarily"
		case 405:
			return "Not Allowed"
		case 408:
			return "Request Time-out"
		case 414:
			return "Request-URI Too Large"
		case 503:
			return "Service Temporarily Unavailable"
		case 504:
			return "Gateway Time-out"
		}
	case apache:
		if status == 414 {
			return "Request-URI Too Long"
		}
	}
	if r, ok := reasons[status]; ok {
		return r
	}
	return "Unknown"
}

var reasons = map[int]string{
	200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
	301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
	411: "Length Required", 412: "Precondition Failed", 413: "Request Entity Too Large", 414: "Request-URI Too Long",
	415: "Unsupported Media Type", 416: "Requested Range Not Satisfiable", 418: "I'm a teapot", 429: "Too Many Requests",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
	504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}

// response is what the server answers, before the product lays it out.
type response struct {
	status   int
	ctype    string // empty: no Content-Type (Apache's unknown types)
	body     []byte
	static   *fileInfo
	allow    string
	public   string // IIS's Public header on OPTIONS
	location string
	auth     []string // WWW-Authenticate, one field each
	app      []header
	dynamic  bool   // produced by an application (PHP), not a file
	httpsys  bool   // refused by IIS's kernel driver before IIS saw it
	close    bool   // the connection ends after this response
	refusal  string // why the request could not be parsed
}

// fileInfo is what a static file shows in its validators.
type fileInfo struct {
	modTime time.Time
	size    int64
}

// etag is the product's entity tag for a file: Apache's FileETag MTime
// Size, nginx's mtime-size, IIS's FILETIME with change number 0.
func (p product) etag(f *fileInfo) string {
	switch p {
	case nginx:
		return fmt.Sprintf(`"%x-%x"`, f.modTime.Unix(), f.size)
	case iis:
		ft := f.modTime.UnixNano()/100 + 116444736000000000
		return fmt.Sprintf(`"%x:0"`, ft)
	}
	return fmt.Sprintf(`"%x-%x"`, f.size, f.modTime.UnixMicro())
}

// connState is what a response's layout needs to know of its connection.
type connState struct {
	served int  // responses already sent on the connection
	kaSent bool // the client asked for keep-alive by name
}

// head writes the status line and header fields in the product's order
// and case. extra are the persona's headers.
func (p product) head(b *strings.Builder, now time.Time, server string, extra []header, req *request, resp *response, cs connState) {
	fmt.Fprintf(b, "HTTP/1.1 %d %s\r\n", resp.status, p.reason(resp.status))
	date := now.UTC().Format(dateFormat)
	hdr := func(name, value string) {
		if value != "" {
			b.WriteString(name + ": " + value + "\r\n")
		}
	}
	list := func(hs []header) {
		for _, h := range hs {
			hdr(h.name, h.value)
		}
	}
	clen := strconv.Itoa(len(resp.body))
	var lastMod, etag, ranges string
	if resp.static != nil {
		lastMod = resp.static.modTime.UTC().Format(dateFormat)
		etag = p.etag(resp.static)
		ranges = "bytes"
	}
	switch p {
	case apache:
		hdr("Date", date)
		hdr("Server", server)
		hdr("Allow", resp.allow)
		hdr("Location", resp.location)
		list(authFields(resp.auth))
		list(extra)
		list(resp.app)
		hdr("Last-Modified", lastMod)
		hdr("ETag", etag)
		hdr("Accept-Ranges", ranges)
		vary := resp.status < 300 && len(resp.body) > 0 && (strings.HasPrefix(resp.ctype, "text/") || strings.Contains(resp.ctype, "javascript") || strings.Contains(resp.ctype, "json"))
		if vary && resp.dynamic {
			hdr("Vary", "Accept-Encoding")
		}
		hdr("Content-Length", clen)
		if vary && !resp.dynamic {
			hdr("Vary", "Accept-Encoding")
		}
		switch {
		case resp.close:
			hdr("Connection", "close")
		case cs.kaSent:
			hdr("Keep-Alive", fmt.Sprintf("timeout=%d, max=%d", int(keepAlive[apache].idle.Seconds()), keepAlive[apache].maxRequests-1-cs.served))
			hdr("Connection", "Keep-Alive")
		}
		hdr("Content-Type", resp.ctype)
	case nginx:
		hdr("Server", server)
		hdr("Date", date)
		hdr("Content-Type", resp.ctype)
		hdr("Content-Length", clen)
		hdr("Last-Modified", lastMod)
		hdr("Location", resp.location)
		if resp.close {
			hdr("Connection", "close")
		} else {
			hdr("Connection", "keep-alive")
		}
		hdr("ETag", etag)
		list(authFields(resp.auth))
		list(resp.app)
		list(extra)
		hdr("Accept-Ranges", ranges)
	case iis:
		if resp.httpsys {
			hdr("Content-Type", resp.ctype)
			hdr("Server", "Microsoft-HTTPAPI/2.0")
			hdr("Date", date)
			hdr("Connection", "close")
			hdr("Content-Length", clen)
			break
		}
		hdr("Allow", resp.allow)
		hdr("Content-Type", resp.ctype)
		hdr("Location", resp.location)
		hdr("Last-Modified", lastMod)
		hdr("Accept-Ranges", ranges)
		hdr("ETag", etag)
		list(authFields(resp.auth))
		hdr("Server", server)
		hdr("Public", resp.public)
		list(resp.app)
		hdr("X-Powered-By", "ASP.NET")
		list(extra)
		hdr("Date", date)
		if resp.close {
			hdr("Connection", "close")
		} else if req != nil && req.http10() {
			hdr("Connection", "keep-alive")
		}
		hdr("Content-Length", clen)
	}
	b.WriteString("\r\n")
}

//go:embed assets/iis_error.html
var iisErrorTemplate string

// iisErrors are IIS's custom-error texts (title and h2, then h3) as a
// remote client sees them.
var iisErrors = map[int][2]string{
	401: {"401 - Unauthorized: Access is denied due to invalid credentials.", "You do not have permission to view this directory or page using the credentials that you supplied."},
	403: {"403 - Forbidden: Access is denied.", "You do not have permission to view this directory or page using the credentials that you supplied."},
	404: {"404 - File or directory not found.", "The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable."},
	405: {"405 - HTTP verb used to access this page is not allowed.", "The page you are looking for cannot be displayed because an invalid method (HTTP verb) was used to attempt access."},
	500: {"500 - Internal server error.", "There is a problem with the resource you are looking for, and it cannot be displayed."},
}

// errorPage is the product's own page for status, with its Content-Type.
// host and port are what Apache's signature names.
func (p product) errorPage(status int, server, method, host, port, location, ua string) ([]byte, string) {
	switch p {
	case nginx:
		title := fmt.Sprintf("%d %s", status, p.reason(status))
		switch status {
		case 302:
			title = "302 Found"
		case 401:
			title = "401 Authorization Required"
		}
		var b strings.Builder
		b.WriteString("<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n")
		b.WriteString("<hr><center>" + html.EscapeString(server) + "</center>\r\n</body>\r\n</html>\r\n")
		if status >= 400 && strings.Contains(ua, "MSIE ") {
			b.WriteString(strings.Repeat("<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n", 6))
		}
		return []byte(b.String()), "text/html"
	case iis:
		if status >= 300 && status < 400 {
			return []byte(`<head><title>Document Moved</title></head>` + "\n" + `<body><h1>Object Moved</h1>This document may be found <a HREF="` + html.EscapeString(location) + `">here</a></body>`), "text/html; charset=UTF-8"
		}
		t, ok := iisErrors[status]
		if !ok {
			t = iisErrors[500]
			t[0] = fmt.Sprintf("%d - %s.", status, p.reason(status))
		}
		return []byte(fmt.Sprintf(iisErrorTemplate, t[0], t[0], t[1])), "text/html"
	}
	reason := p.reason(status)
	var b strings.Builder
	b.WriteString(`<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">` + "\n")
	fmt.Fprintf(&b, "<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n", status, reason, reason)
	b.WriteString(apacheCanned(status, html.EscapeString(method), html.EscapeString(location)))
	fmt.Fprintf(&b, "<hr>\n<address>%s Server at %s Port %s</address>\n</body></html>\n", html.EscapeString(server), html.EscapeString(host), port)
	return []byte(b.String()), "text/html; charset=iso-8859-1"
}

// apacheCanned is the explanation paragraph of Apache's error pages
// (http_protocol.c, get_canned_error_string), with HTML-escaped inputs.
func apacheCanned(status int, method, location string) string {
	switch status {
	case 301, 302, 307, 308:
		return `<p>The document has moved <a href="` + location + `">here</a>.</p>` + "\n"
	case 401:
		return "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n"
	case 400:
		return "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n"
	case 403:
		return "<p>You don't have permission to access this resource.</p>\n"
	case 404:
		return "<p>The requested URL was not found on this server.</p>\n"
	case 405:
		return "<p>The requested method " + method + " is not allowed for this URL.</p>\n"
	case 408:
		return "<p>Server timeout waiting for the HTTP request from the client.</p>\n"
	case 410:
		return "<p>The requested resource is no longer available on this server and there is no forwarding address.\nPlease remove all references to this resource.</p>\n"
	case 413:
		return "The requested resource does not allow request data with " + method + " requests, or the amount of data provided in\nthe request exceeds the capacity limit.\n"
	case 414:
		return "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>\n"
	case 429:
		return "<p>The user has sent too many requests\nin a given amount of time.</p>\n"
	case 501:
		return "<p>" + method + " not supported for current URL.<br />\n</p>\n"
	case 503:
		return "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n"
	case 504:
		return "<p>The gateway did not receive a timely response\nfrom the upstream server or application.</p>\n"
	}
	return "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n<p>Please contact the server administrator at \n webmaster@localhost to inform them of the time this error occurred,\n and the actions you performed just before this error.</p>\n<p>More information about this error may be available\nin the server error log.</p>\n"
}

// hostPort splits a Host header the way Apache's signature uses it: the
// lower-cased name, and the port it names or else the listener's.
func hostPort(hostHeader, fallbackHost, listenPort string) (string, string) {
	if hostHeader == "" {
		return fallbackHost, listenPort
	}
	host, port, err := net.SplitHostPort(hostHeader)
	if err != nil {
		return strings.ToLower(strings.Trim(hostHeader, "[]")), listenPort
	}
	if _, err := strconv.Atoi(port); err != nil || port == "" {
		port = listenPort
	}
	return strings.ToLower(host), port
}
