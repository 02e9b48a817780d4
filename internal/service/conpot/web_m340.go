package conpot

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// The BMX NOE's web server (Schneider-WEB, an embedded GoAhead): HTTP/1.0
// answers, its upper-case asctime Date, no-cache headers, GoAhead's
// error pages, and HTTP Basic authentication on the secured pages with
// the factory account USER/USER.
const (
	m340User  = "USER"
	m340Pass  = "USER"
	m340Realm = "Schneider Web"
)

func (s *Server) m340Headers(contentType string, body []byte, extra ...[2]string) [][2]string {
	h := [][2]string{
		{"Server: ", "Schneider-WEB/" + s.id.webServer},
		{"Date: ", strings.ToUpper(s.now().UTC().Format("Mon Jan 02 15:04:05 2006"))},
		{"Pragma: ", "no-cache"},
		{"Cache-Control: ", "no-cache"},
		{"Content-length: ", strconv.Itoa(len(body))},
		{"Content-Type: ", contentType},
	}
	return append(h, extra...)
}

// goAheadError is the server's error page.
func goAheadError(title, msg string) []byte {
	return fmt.Appendf(nil, "<html><head><title>Document Error: %s</title></head>\r\n\t\t<body><h2>Access Error: %s</h2>\r\n\t\t<p>%s</p></body></html>\r\n\r\n", title, title, msg)
}

func (s *Server) m340Web(r *http.Request) response {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		// What nmap's Schneider-WEB match line holds: the length the
		// server writes is two bytes short of its page.
		body := goAheadError("Page not found", "Bad request type")
		h := s.m340Headers("text/html", body)
		h[4][1] = strconv.Itoa(len(body) - 2)
		return response{status: "400 Page not found", proto: "HTTP/1.1", headers: h, body: body}
	}
	path := r.URL.Path
	switch path {
	case "/", "/index.html":
		host := r.Host
		if host == "" {
			host = localHost(r)
		}
		loc := "http://" + host + "/index.htm"
		body := fmt.Appendf(nil, "<html><head></head><body>\r\n\t\tThis document has moved to a new <a href=\"%s\">location</a>.\r\n\t\tPlease update your documents to reflect the new location.\r\n\t\t</body></html>\r\n\r\n", loc)
		return response{status: "302 Redirect", proto: "HTTP/1.0", headers: s.m340Headers("text/html", body, [2]string{"Location: ", loc}), body: body}
	case "/index.htm", "/html/english/index.htm":
		return s.m340Page(s.m340Home())
	case "/secure/system/monitoring.htm", "/secure/process.htm", "/secure/html/english/monitoring/dataeditor.htm":
		user, pass, ok := r.BasicAuth()
		if ok {
			good := user == m340User && pass == m340Pass
			s.login(r, "http_basic", user, pass, good)
			if good {
				return s.m340Page(s.m340Process())
			}
		}
		body := goAheadError("Unauthorized", "Access to this document requires a User ID")
		h := s.m340Headers("text/html", body)
		h = append(h[:2:2], append([][2]string{{"WWW-Authenticate: ", `Basic realm="` + m340Realm + `"`}}, h[2:]...)...)
		return response{status: "401 Unauthorized", proto: "HTTP/1.0", headers: h, body: body}
	}
	body := goAheadError("Site or Page Not Found", "Cannot open URL")
	return response{status: "404 Site or Page Not Found", proto: "HTTP/1.0", headers: s.m340Headers("text/html", body), body: body}
}

func localHost(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(interface{ String() string }); ok {
		if h, _, err := net.SplitHostPort(a.String()); err == nil {
			return h
		}
	}
	return "localhost"
}

func (s *Server) m340Page(body string) response {
	b := []byte(body)
	return response{status: "200 OK", proto: "HTTP/1.0", headers: s.m340Headers("text/html", b), body: b}
}

// m340Head is the pages' common head and menu.
func (s *Server) m340Head(title string) string {
	return fmt.Sprintf(`<html>
<head>
<title>%s</title>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">
<link rel="stylesheet" href="/html/css/style.css" type="text/css">
</head>
<body bgcolor="#FFFFFF">
<table width="100%%" border="0" cellspacing="0" cellpadding="0">
<tr><td class="banner"><img src="/html/images/logo_se.gif" alt="Schneider Electric"></td>
<td class="title">%s</td></tr>
<tr><td colspan="2" class="menu"><a href="/index.htm">Home</a> | <a href="/secure/system/monitoring.htm">Monitoring</a> | <a href="/secure/system/monitoring.htm">Diagnostics</a> | <a href="/html/english/setup/setup.htm">Setup</a> | <a href="/html/english/documentation/doc.htm">Documentation</a></td></tr>
</table>
`, html.EscapeString(title), html.EscapeString(s.id.netModule))
}

func (s *Server) m340Home() string {
	return s.m340Head("Modicon M340 - "+s.id.netModule) + fmt.Sprintf(`<h2>Modicon M340 Web Server</h2>
<table class="info">
<tr><td>Module</td><td>%s</td></tr>
<tr><td>Module firmware</td><td>%s</td></tr>
<tr><td>Processor</td><td>%s</td></tr>
<tr><td>Processor firmware</td><td>%s</td></tr>
<tr><td>Application</td><td>%s</td></tr>
<tr><td>MAC address</td><td>%s</td></tr>
</table>
<p>Monitoring and diagnostics pages require a user name and password.</p>
</body>
</html>
`, html.EscapeString(s.id.netModule), html.EscapeString(s.id.netFirmware), html.EscapeString(s.id.product),
		html.EscapeString(s.id.firmware), html.EscapeString(s.id.station), strings.ToUpper(strings.ReplaceAll(s.id.mac.String(), ":", "-")))
}

func (s *Server) m340Process() string {
	return s.m340Head("Data Editor - "+s.id.station) + `<h2>Data Editor</h2>
<table class="data" border="1" cellspacing="0" cellpadding="2">
<tr><th>Symbol</th><th>Comment</th><th>Address</th><th>Value</th><th>Unit</th></tr>
` + s.processRows() + `</table>
</body>
</html>
`
}
