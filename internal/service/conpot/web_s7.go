package conpot

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
)

// The S7-1200 web server: "/" moves to /Default.mwsl with the exact
// answer nmap's match line holds; the portal pages carry the login form
// (no account is configured, so every login fails), and the user-defined
// page under /awp/ shows the process to everybody, as integrators publish
// it.
func (s *Server) s7Web(r *http.Request) response {
	switch r.URL.Path {
	case "/":
		return response{status: "302 Object Moved", headers: [][2]string{
			{"Content-Type:", "text/html"}, {"Content-Length: ", "0"}, {"Connection: ", "close"}, {"Location: ", "/Default.mwsl"}}}
	case "/Default.mwsl", "/Portal/Intro.mwsl":
		return s.s7Page(s.s7Portal("Intro", ""))
	case "/Portal/Portal.mwsl":
		nav := r.URL.Query().Get("PriNav")
		if nav == "" {
			nav = "Start"
		}
		return s.s7Page(s.s7Portal(nav, ""))
	case "/FORMS/portal/login":
		if r.Method != http.MethodPost {
			return s.s7Page(s.s7Portal("Start", ""))
		}
		formValues(r)
		s.login(r, "http_form", r.PostForm.Get("Login"), r.PostForm.Get("Password"), false)
		return s.s7Page(s.s7Portal("Start", "Login failed"))
	case "/awp/" + s.p.Site + "/index.html", "/awp/index.html":
		return s.s7Page(s.s7Process())
	}
	body := []byte("<HTML><HEAD><TITLE>Error</TITLE></HEAD><BODY><CENTER><H2>404 : NOT FOUND</H2></CENTER></BODY></HTML>")
	return response{status: "404 Not Found", headers: s7Headers(body), body: body}
}

func s7Headers(body []byte) [][2]string {
	return [][2]string{
		{"Content-Type:", "text/html; charset=utf-8"},
		{"Cache-Control: ", "no-cache"},
		{"Content-Length: ", strconv.Itoa(len(body))},
		{"Connection: ", "close"},
	}
}

func (s *Server) s7Page(body string) response {
	b := []byte(body)
	return response{status: "200 OK", headers: s7Headers(b), body: b}
}

// s7Title is the portal's title: station and module name.
func (s *Server) s7Title() string {
	return html.EscapeString(s.id.station + "/" + s.id.moduleName)
}

func (s *Server) s7Portal(nav, msg string) string {
	var content string
	switch nav {
	case "Intro":
		content = `<div class="Intro_Content"><h1>SIMATIC S7-1200</h1><p>` + s.s7Title() + `</p><a class="Intro_Enter" href="/Portal/Portal.mwsl?PriNav=Start">ENTER</a></div>`
	case "UserPages":
		content = `<h2>User pages</h2><a href="/awp/` + html.EscapeString(s.p.Site) + `/index.html">` + html.EscapeString(s.id.plant) + `</a>`
	default:
		content = fmt.Sprintf(`<h2>Start page</h2>
<table class="Start_Table">
<tr><td>Station name:</td><td>%s</td></tr>
<tr><td>Module name:</td><td>%s</td></tr>
<tr><td>Module type:</td><td>%s</td></tr>
<tr><td>Article number:</td><td>%s</td></tr>
<tr><td>Firmware:</td><td>%s</td></tr>
<tr><td>Operating mode:</td><td>RUN</td></tr>
<tr><td>Status:</td><td>OK</td></tr>
</table>`, html.EscapeString(s.id.station), html.EscapeString(s.id.moduleName), html.EscapeString(s.id.model),
			html.EscapeString(s.id.product), html.EscapeString(s.id.firmware))
	}
	alert := ""
	if msg != "" {
		alert = `<div class="Login_Error">` + html.EscapeString(msg) + `</div>`
	}
	return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>` + s.s7Title() + `</title>
<link rel="stylesheet" type="text/css" href="/CSS/S7Web.css">
</head>
<body>
<div class="Header"><span class="Header_Title">SIMATIC S7-1200</span><span class="Header_Station">` + s.s7Title() + `</span>
<form method="post" action="/FORMS/portal/login" class="Login_Area">
<span>Log in</span> <input type="text" name="Login" class="Login_Input"> <input type="password" name="Password" class="Login_Input">
<input type="hidden" name="Redirection" value="">
<input type="submit" value="Log in" class="Login_Button">
</form>` + alert + `</div>
<div class="Navigation">
<a href="/Portal/Portal.mwsl?PriNav=Start">Start page</a>
<a href="/Portal/Portal.mwsl?PriNav=Ident">Identification</a>
<a href="/Portal/Portal.mwsl?PriNav=Diag">Diagnostic buffer</a>
<a href="/Portal/Portal.mwsl?PriNav=UserPages">User pages</a>
</div>
<div class="Content">` + content + `</div>
</body>
</html>
`
}

func (s *Server) s7Process() string {
	return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta http-equiv="refresh" content="5">
<title>` + html.EscapeString(s.id.plant) + `</title>
</head>
<body>
<h2>` + html.EscapeString(s.id.plant) + `</h2>
<table border="1" cellspacing="0" cellpadding="2">
<tr><th>Tag</th><th>Comment</th><th>Address</th><th>Value</th><th>Unit</th></tr>
` + s.processRows() + `</table>
</body>
</html>
`
}
