package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"decnet/internal/api"
	"decnet/internal/fleet"
	"decnet/internal/store"
)

// registerAdmin adds the fleet, configuration and health pages and their
// forms. Every form is one API call as the visitor: the pages hide what
// the visitor's role may not do, and the API refuses it anyway.
func (s *Server) registerAdmin(mux *http.ServeMux) {
	mux.Handle("GET /fleet", s.session(s.fleetPage))
	mux.Handle("POST /fleet/deploy", s.action(s.deploy))
	mux.Handle("POST /fleet/{decky}/mutate", s.action(s.mutateDecky))
	mux.Handle("POST /fleet/{decky}/interval", s.action(s.setDeckyInterval))

	mux.Handle("GET /config", s.session(s.configPage))
	mux.Handle("POST /config/deployment-limit", s.action(s.setDeploymentLimit))
	mux.Handle("POST /config/global-mutation-interval", s.action(s.setGlobalInterval))
	mux.Handle("POST /config/users", s.action(s.createUser))
	mux.Handle("POST /config/users/{uuid}/role", s.action(s.setUserRole))
	mux.Handle("POST /config/users/{uuid}/password", s.action(s.resetPassword))
	mux.Handle("POST /config/users/{uuid}/delete", s.action(s.deleteUser))
	mux.Handle("POST /config/reinit", s.action(s.reinit))

	mux.Handle("GET /health", s.session(s.healthPage))
}

// invalid is a form's own refusal, before any API call; done shows it
// like the API's refusals.
func invalid(msg string) error {
	return &apiError{Status: http.StatusUnprocessableEntity, Detail: msg}
}

// apply ends a form with one API call whose answer is a message, shown as
// the flash; okText stands in when the answer has none.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, back, method, path string, body any, okText string) {
	var out api.MessageBody
	err := s.call(r.Context(), r, visitorOf(r), method, path, nil, body, &out)
	if out.Message != "" {
		okText = out.Message
	}
	s.done(w, r, back, err, okText)
}

// ---- Fleet ----

// fleetView is the fleet page.
type fleetView struct {
	Deckies []deckyView
	Active  int
	// Global is the fleet's global mutation interval ("30m"), "" when
	// scheduled mutation is off or no fleet runs with the API.
	Global          string
	DeploymentLimit int
	Deploy          deployForm
}

// deployForm is what a refused deployment gives back: the document, so
// the admin can fix it rather than paste it again, and the reason.
type deployForm struct {
	INI   string
	Error string
}

// deckyView is one decky as the fleet page shows it.
type deckyView struct {
	api.Decky
	Services []serviceView
	// Interval says when the decky mutates by itself: "every 45m",
	// "global (30m)" or "never".
	Interval string
	// Own is the decky's own interval ("45m"), "" when it follows the
	// global one; the interval form starts with it.
	Own string
}

// serviceView is one service of a decky: the TCP port it listens on (0
// when unknown) and its persona keys.
type serviceView struct {
	Name    string
	Port    int
	Persona map[string]string
}

func newDeckyView(d api.Decky, global string) deckyView {
	v := deckyView{Decky: d, Interval: "never"}
	switch {
	case d.MutateInterval != nil && *d.MutateInterval > 0:
		v.Own = fleet.FormatInterval(*d.MutateInterval)
		v.Interval = "every " + v.Own
	case global != "":
		v.Interval = "global (" + global + ")"
	}
	for _, name := range d.Services {
		v.Services = append(v.Services, serviceView{Name: name, Port: d.Ports[name], Persona: d.ServiceConfig[name]})
	}
	return v
}

// fleetData reads the deckies and the settings the fleet page shows.
func (s *Server) fleetData(r *http.Request) (fleetView, error) {
	var (
		ds   []api.Decky
		conf api.ConfigBody
	)
	err := fetch(
		func() error { return s.get(r, "/deckies", nil, &ds) },
		func() error { return s.get(r, "/config", nil, &conf) },
	)
	if err != nil {
		return fleetView{}, err
	}
	v := fleetView{DeploymentLimit: conf.DeploymentLimit}
	if conf.GlobalMutationInterval != nil {
		v.Global = *conf.GlobalMutationInterval
	}
	for _, d := range ds {
		if d.Active {
			v.Active++
		}
		v.Deckies = append(v.Deckies, newDeckyView(d, v.Global))
	}
	return v, nil
}

// fleetPage serves GET /fleet.
func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.fleetData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "fleet", v)
}

// deckyPath is the API path of one decky's route; the name comes from the
// URL, so it is escaped (the API refuses anything but [a-z0-9-]).
func deckyPath(r *http.Request, route string) string {
	return "/deckies/" + url.PathEscape(r.PathValue("decky")) + "/" + route
}

// mutateDecky serves POST /fleet/{decky}/mutate.
func (s *Server) mutateDecky(w http.ResponseWriter, r *http.Request) {
	s.apply(w, r, "/fleet", http.MethodPost, deckyPath(r, "mutate"), nil, "Mutated "+r.PathValue("decky")+".")
}

// setDeckyInterval serves POST /fleet/{decky}/interval: the "use" button
// pressed says whether the decky gets the typed interval or the global
// one.
func (s *Server) setDeckyInterval(w http.ResponseWriter, r *http.Request) {
	var interval *string
	if r.PostFormValue("use") != "global" {
		v, err := parseIntervalField(r.PostFormValue("interval"))
		if err != nil {
			s.done(w, r, "/fleet", err, "")
			return
		}
		interval = &v
	}
	body := map[string]*string{"mutate_interval": interval}
	s.apply(w, r, "/fleet", http.MethodPut, deckyPath(r, "mutate-interval"), body, "Mutation interval set.")
}

// parseIntervalField reads an interval as typed: "<count><unit>" as the
// API takes it, or a bare count of minutes. Checking it here gives a
// clearer message than the API's pattern does.
func parseIntervalField(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "", invalid("Enter a mutation interval, e.g. 45m, 2h or 1d.")
	}
	if strings.Trim(v, "0123456789") == "" {
		v += "m"
	}
	if _, err := fleet.ParseInterval(v); err != nil {
		return "", invalid("Mutation interval: " + err.Error() + ".")
	}
	return v, nil
}

// maxINIBytes is the API's limit on a deployment document.
const maxINIBytes = 512 << 10

// deploy serves POST /fleet/deploy (the document typed or uploaded). A
// refused deployment shows the fleet page again with the document and
// the API's reason, rather than losing what the admin typed to a
// redirect.
func (s *Server) deploy(w http.ResponseWriter, r *http.Request) {
	ini, err := iniOf(r)
	if err == nil {
		var out api.MessageBody
		err = s.call(r.Context(), r, visitorOf(r), http.MethodPost, "/deckies/deploy", nil,
			map[string]string{"ini_content": ini}, &out)
		if err == nil {
			s.done(w, r, "/fleet", nil, out.Message)
			return
		}
	}
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status == http.StatusUnauthorized || ae.Status >= 500 && ae.Status != http.StatusNotImplemented {
		s.done(w, r, "/fleet", err, "")
		return
	}
	v, ferr := s.fleetData(r)
	if ferr != nil {
		s.fail(w, r, ferr)
		return
	}
	v.Deploy = deployForm{INI: ini, Error: "Deployment refused: " + ae.Error()}
	s.render(w, r, ae.Status, "fleet", v)
}

// iniOf reads the deployment document: an uploaded file, else the text.
func iniOf(r *http.Request) (string, error) {
	ini := r.PostFormValue("ini")
	if f, _, err := r.FormFile("ini_file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxINIBytes+1))
		if err != nil {
			return "", fmt.Errorf("reading the uploaded INI file: %w", err)
		}
		if len(b) > 0 {
			ini = string(b)
		}
	}
	switch {
	case strings.TrimSpace(ini) == "":
		return ini, invalid("Paste an INI document or choose an INI file to deploy.")
	case len(ini) > maxINIBytes:
		return "", invalid("The INI document is larger than 512 KiB.")
	}
	return ini, nil
}

// ---- Configuration ----

// configView is the configuration page.
type configView struct {
	api.ConfigBody
	// Me is the visitor's UUID: the API refuses to change one's own role
	// or delete oneself, so that row has no such forms.
	Me string
	// Roles are the roles a user can have, lowest first.
	Roles []string
}

// configPage serves GET /config.
func (s *Server) configPage(w http.ResponseWriter, r *http.Request) {
	var conf api.ConfigBody
	if err := s.get(r, "/config", nil, &conf); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "config", configView{ConfigBody: conf, Me: visitorOf(r).UUID,
		Roles: []string{store.RoleViewer, store.RoleAnalyst, store.RoleAdmin}})
}

// setDeploymentLimit serves POST /config/deployment-limit.
func (s *Server) setDeploymentLimit(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("deployment_limit")))
	if err != nil {
		s.done(w, r, "/config", invalid("The deployment limit must be a whole number from 1 to 500."), "")
		return
	}
	s.apply(w, r, "/config", http.MethodPut, "/config/deployment-limit", map[string]int{"deployment_limit": n}, "Deployment limit set.")
}

// setGlobalInterval serves POST /config/global-mutation-interval.
func (s *Server) setGlobalInterval(w http.ResponseWriter, r *http.Request) {
	v, err := parseIntervalField(r.PostFormValue("interval"))
	if err != nil {
		s.done(w, r, "/config", err, "")
		return
	}
	s.apply(w, r, "/config", http.MethodPut, "/config/global-mutation-interval",
		map[string]string{"global_mutation_interval": v}, "Global mutation interval set.")
}

// createUser serves POST /config/users.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("username"))
	pw := r.PostFormValue("password")
	if name == "" || pw == "" {
		s.done(w, r, "/config", invalid("Enter a username and an initial password."), "")
		return
	}
	body := map[string]string{"username": name, "password": pw, "role": r.PostFormValue("role")}
	var u api.UserResponse
	err := s.call(r.Context(), r, visitorOf(r), http.MethodPost, "/config/users", nil, body, &u)
	s.done(w, r, "/config", err, fmt.Sprintf("User %s created as %s; they choose their own password at first login.", u.Username, u.Role))
}

// userPath is the API path of one user's route.
func userPath(r *http.Request, route string) string {
	p := "/config/users/" + url.PathEscape(r.PathValue("uuid"))
	if route != "" {
		p += "/" + route
	}
	return p
}

// setUserRole serves POST /config/users/{uuid}/role.
func (s *Server) setUserRole(w http.ResponseWriter, r *http.Request) {
	s.apply(w, r, "/config", http.MethodPut, userPath(r, "role"), map[string]string{"role": r.PostFormValue("role")}, "Role changed.")
}

// resetPassword serves POST /config/users/{uuid}/password.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	pw := r.PostFormValue("new_password")
	if pw == "" {
		s.done(w, r, "/config", invalid("Enter the new password."), "")
		return
	}
	s.apply(w, r, "/config", http.MethodPut, userPath(r, "reset-password"), map[string]string{"new_password": pw}, "Password reset.")
}

// deleteUser serves POST /config/users/{uuid}/delete.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	s.apply(w, r, "/config", http.MethodDelete, userPath(r, ""), nil, "User deleted.")
}

// reinit serves POST /config/reinit: the developer-mode purge.
func (s *Server) reinit(w http.ResponseWriter, r *http.Request) {
	var out struct {
		Deleted store.Purged `json:"deleted"`
	}
	err := s.call(r.Context(), r, visitorOf(r), http.MethodDelete, "/config/reinit", nil, nil, &out)
	d := out.Deleted
	s.done(w, r, "/config", err, fmt.Sprintf("Purged %d logs, %d bounties and %d attacker profiles.", d.Logs, d.Bounties, d.Attackers))
}

// ---- Health ----

// healthView is the health page.
type healthView struct {
	Status     string
	Components []componentView
	Failing    int
	Checked    time.Time
}

// componentView is one component of the health page.
type componentView struct {
	Name string
	api.ComponentHealth
}

// healthPage serves GET /health. The API answers 503 with the same body
// when unhealthy; that is what the page is for, so it is shown like 200.
func (s *Server) healthPage(w http.ResponseWriter, r *http.Request) {
	var h api.HealthBody
	var ae *apiError
	if err := s.get(r, "/health", nil, &h); errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable {
		err = json.Unmarshal(ae.Body, &h)
		if err != nil {
			s.fail(w, r, fmt.Errorf("decoding GET /health: %w", err))
			return
		}
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	v := healthView{Status: h.Status, Checked: time.Now().UTC()}
	for _, name := range slices.Sorted(maps.Keys(h.Components)) {
		c := componentView{Name: name, ComponentHealth: h.Components[name]}
		if c.Status != "ok" {
			v.Failing++
		}
		v.Components = append(v.Components, c)
	}
	s.render(w, r, http.StatusOK, "health", v)
}
