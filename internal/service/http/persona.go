package http

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Persona is what one decky's web server claims to be. Every key is
// optional: the zero Persona is a stock Apache on the decky's distro
// showing the distro's default page.
type Persona struct {
	// ServerHeader is the Server header value. It also picks the product
	// whose wire behaviour is copied: a value naming nginx or
	// Microsoft-IIS gives that product's header order, error pages and
	// keep-alive rules; anything else behaves as Apache. Empty means the
	// product of FakeApp (Apache for every preset but nginx_default and
	// iis_default) at the version the decky's distro ships.
	ServerHeader string `ini:"server_header"`

	// ResponseCode, when not 0, answers every request that the files
	// directory does not serve with this status: a 2xx status shows the
	// main page, any other status the product's own error page (or
	// CustomBody). 401 also asks for HTTP Basic credentials. The default 0
	// routes like a real site (pages 200, the rest 404), because the
	// original's 403 for every path is a catch-all tell.
	ResponseCode int `ini:"response_code"`

	// FakeApp is the site preset: apache_default, nginx_default,
	// iis_default, wordpress or phpmyadmin. Empty means the default page of
	// the product named by ServerHeader.
	FakeApp string `ini:"fake_app"`

	// ExtraHeaders are added to every response, as a JSON object of header
	// name to value, in the order of their names.
	ExtraHeaders map[string]string `ini:"extra_headers"`

	// CustomBody replaces the main page's HTML (and, with a non-2xx
	// ResponseCode, the error page).
	CustomBody string `ini:"custom_body"`

	// Files is a directory served read-only ahead of the preset, as the
	// document root would be; nothing outside it can be reached, symlinks
	// included.
	Files string `ini:"files"`

	// Auth is how a 401 asks for credentials: "basic" (a Basic realm),
	// "windows" (IIS's Windows Authentication: Negotiate and NTLM, whose
	// NetNTLMv2 is captured), or empty for the product's way (windows on
	// IIS, basic otherwise).
	Auth string `ini:"auth"`

	// TLSCN is the common name of the certificate served on 443: by
	// default the decky's hostname, as Debian's snakeoil and IIS's
	// self-signed certificate carry it.
	TLSCN string `ini:"tls_cn"`
	// TLSIssuer, when set, is the common name of a company's internal CA
	// that issued the certificate (for example "CORP-SUB-CA"), made once
	// per decky; empty means the product's self-signed certificate.
	TLSIssuer string `ini:"tls_issuer"`
	// TLSCert and TLSKey are PEM files of a certificate (chain) and key to
	// serve instead, both or neither.
	TLSCert string `ini:"tls_cert"`
	TLSKey  string `ini:"tls_key"`
}

// The fake_app presets.
const (
	appApache     = "apache_default"
	appNginx      = "nginx_default"
	appIIS        = "iis_default"
	appWordPress  = "wordpress"
	appPhpMyAdmin = "phpmyadmin"
)

var presets = []string{appApache, appIIS, appNginx, appPhpMyAdmin, appWordPress}

// Validate checks the keys as a whole.
func (p *Persona) Validate() error {
	if p.Auth != "" && p.Auth != authBasic && p.Auth != authWindows {
		return fmt.Errorf("auth %q: want basic, windows or empty", p.Auth)
	}
	if (p.TLSCert == "") != (p.TLSKey == "") {
		return fmt.Errorf("tls_cert and tls_key go together")
	}
	for k, v := range map[string]string{"tls_cn": p.TLSCN, "tls_issuer": p.TLSIssuer} {
		if len(v) > 64 {
			return fmt.Errorf("%s: over 64 characters (X.509's limit for a common name)", k)
		}
	}
	if p.FakeApp != "" && !slices.Contains(presets, p.FakeApp) {
		return fmt.Errorf("fake_app %q: want one of %s", p.FakeApp, strings.Join(presets, ", "))
	}
	if p.ResponseCode != 0 && (p.ResponseCode < 200 || p.ResponseCode > 599) {
		return fmt.Errorf("response_code %d: want 0 or 200-599", p.ResponseCode)
	}
	if strings.ContainsAny(p.ServerHeader, "\r\n") {
		return fmt.Errorf("server_header holds a line break")
	}
	for k, v := range p.ExtraHeaders {
		if !isToken(k) {
			return fmt.Errorf("extra_headers: %q is not a header name", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("extra_headers: the value of %s holds a line break", k)
		}
	}
	if p.Files != "" {
		st, err := os.Stat(p.Files)
		if err != nil {
			return fmt.Errorf("files: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("files: %s is not a directory", p.Files)
		}
	}
	return nil
}

// serverVersions are the Server headers of the stock packages per distro,
// for Apache and nginx (ServerTokens OS / server_tokens on). Debian's are
// captured (real-products.md); the others are the versions those releases
// ship.
var serverVersions = map[string][2]string{
	"debian":   {"Apache/2.4.71 (Debian)", "nginx/1.22.1"},
	"ubuntu22": {"Apache/2.4.52 (Ubuntu)", "nginx/1.18.0 (Ubuntu)"},
	"ubuntu20": {"Apache/2.4.41 (Ubuntu)", "nginx/1.18.0 (Ubuntu)"},
	"rocky9":   {"Apache/2.4.62 (Rocky Linux)", "nginx/1.20.1"},
	"centos7":  {"Apache/2.4.6 (CentOS)", "nginx/1.20.1"},
	"fedora":   {"Apache/2.4.58 (Fedora Linux)", "nginx/1.24.0"},
	"alpine":   {"Apache/2.4.62 (Unix)", "nginx/1.24.0"},
	"kali":     {"Apache/2.4.65 (Debian)", "nginx/1.26.3"},
	"arch":     {"Apache/2.4.65 (Unix)", "nginx/1.28.0"},
}

// iisServer is the Server header of IIS on Windows Server 2016 and later.
const iisServer = "Microsoft-IIS/10.0"

// resolved is a persona with its defaults settled for one decky.
type resolved struct {
	product product
	server  string // Server header and signature
	app     string
}

func resolve(p *Persona, distro string) resolved {
	vers, ok := serverVersions[distro]
	if !ok {
		vers = serverVersions["debian"]
	}
	r := resolved{server: p.ServerHeader, app: p.FakeApp}
	if r.server == "" {
		switch r.app {
		case appNginx:
			r.server = vers[1]
		case appIIS:
			r.server = iisServer
		default:
			r.server = vers[0]
		}
	}
	r.product = productOf(r.server)
	if r.app == "" {
		r.app = [...]string{apache: appApache, nginx: appNginx, iis: appIIS}[r.product]
	}
	return r
}

func productOf(server string) product {
	s := strings.ToLower(server)
	switch {
	case strings.Contains(s, "nginx"):
		return nginx
	case strings.Contains(s, "microsoft-iis"):
		return iis
	}
	return apache
}
