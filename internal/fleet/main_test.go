package fleet

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"decnet/internal/service"
)

// The fleet tests run against fake services named like the real ones (this
// test binary links none of the real ones), with personas shaped like
// theirs, so the rules are tested without depending on their code.
type fake struct{ info service.Info }

func (f fake) Info() service.Info { return f.info }

func (fake) New(service.Config) (service.Server, error) { return nil, errors.New("fake service") }

type sshPersona struct {
	Password string `ini:"password"`
	Hostname string `ini:"hostname"`
}

type httpPersona struct {
	ServerHeader string   `ini:"server_header"`
	ResponseCode int      `ini:"response_code"`
	FakeApp      string   `ini:"fake_app"`
	Methods      []string `ini:"methods"`
	TLSCert      string   `ini:"tls_cert"`
	TLSKey       string   `ini:"tls_key"`
}

func (p *httpPersona) Validate() error {
	if p.ResponseCode < 100 || p.ResponseCode > 599 {
		return fmt.Errorf("response_code %d is not an HTTP status", p.ResponseCode)
	}
	if (p.TLSCert == "") != (p.TLSKey == "") {
		return errors.New("tls_cert and tls_key go together")
	}
	return nil
}

type redisPersona struct {
	Version string `ini:"version"`
}

func TestMain(m *testing.M) {
	for _, info := range []service.Info{
		{Slug: "ssh", Ports: []service.Port{{Number: 22, Proto: service.TCP}}, Persona: func() any { return &sshPersona{Password: "admin"} }},
		{Slug: "http", Ports: []service.Port{{Number: 80, Proto: service.TCP}}, Persona: func() any { return &httpPersona{ServerHeader: "Apache", ResponseCode: 403} }},
		{Slug: "redis", Ports: []service.Port{{Number: 6379, Proto: service.TCP}}, Persona: func() any { return &redisPersona{Version: "7.2.7"} }},
		{Slug: "tftp", Ports: []service.Port{{Number: 69, Proto: service.UDP}}},
		{Slug: "sniffer", FleetSingleton: true},
		// hmi's web page shares port 80 with http, as conpot's does.
		{Slug: "hmi", Ports: []service.Port{{Number: 502, Proto: service.TCP}, {Number: 80, Proto: service.TCP}}},
	} {
		if err := service.RegisterCustom(fake{info}); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
