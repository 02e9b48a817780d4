package dockerapi

import (
	"net/http"
	"strings"

	"decnet/internal/event"
)

// execBody is POST /containers/{id}/exec.
type execBody struct {
	User         string
	Privileged   bool
	Tty          bool
	AttachStdin  bool
	AttachStdout bool
	AttachStderr bool
	Detach       bool
	Env          []string
	WorkingDir   string
	Cmd          strList
}

func (h *handler) execCreate(c *call, args []string) error {
	var b execBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	e := h.s.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	ct, err := h.find(args[0])
	if err != nil {
		return err
	}
	x := &execInst{ID: randomID(), ContainerID: ct.ID, Cmd: b.Cmd, User: b.User, WorkDir: b.WorkingDir, Tty: b.Tty,
		Privileged: b.Privileged, Stdin: b.AttachStdin}
	h.action(c, "exec_create", ct, map[string]string{
		event.FieldCommand: event.Clip(strings.Join(b.Cmd, " "), 4096), "cmd": jsonField(b.Cmd, 4096),
		"exec_id": x.ID, "user": event.Clip(b.User, 128), "privileged": boolString(b.Privileged),
		"tty": boolString(b.Tty), "env": jsonField(b.Env, 2048)})
	if !ct.Running {
		return errorf(http.StatusConflict, "Container "+ct.ID+" is not running")
	}
	if len(b.Cmd) == 0 {
		return errorf(http.StatusBadRequest, "No exec command specified")
	}
	e.addExec(x)
	writeJSON(c.w, http.StatusCreated, struct {
		ID string `json:"Id"`
	}{x.ID})
	return nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// execStartBody is POST /exec/{id}/start.
type execStartBody struct {
	Detach bool
	Tty    bool
}

func (h *handler) execStart(c *call, args []string) error {
	var b execStartBody
	if err := decodeOptional(c, &b); err != nil {
		return err
	}
	e := h.s.eng
	e.mu.Lock()
	x := e.exec(args[0])
	if x == nil {
		e.mu.Unlock()
		return errorf(http.StatusNotFound, "No such exec instance: "+args[0])
	}
	ct := e.lookup(x.ContainerID)
	if ct == nil || !ct.Running {
		e.mu.Unlock()
		return errorf(http.StatusConflict, "Container "+x.ContainerID+" is not running")
	}
	x.Running = true
	e.mu.Unlock()
	h.action(c, "exec_start", ct, map[string]string{event.FieldCommand: event.Clip(strings.Join(x.Cmd, " "), 4096),
		"exec_id": x.ID, "detach": boolString(b.Detach)})
	done := func() {
		e.mu.Lock()
		zero := 0
		x.Running, x.ExitCode = false, &zero
		e.mu.Unlock()
	}
	if b.Detach {
		done()
		return nil
	}
	nc, rw, err := h.hijack(c, b.Tty, true)
	if err != nil {
		return err
	}
	h.record(c)
	h.session(c, nc, rw, process{ct: ct, cmd: x.Cmd, tty: b.Tty, stdin: x.Stdin,
		action: "exec_stdin", execID: x.ID})
	done()
	return nil
}

func (h *handler) execResize(c *call, args []string) error {
	e := h.s.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exec(args[0]) == nil {
		return errorf(http.StatusNotFound, "No such exec instance: "+args[0])
	}
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *handler) execInspect(c *call, args []string) error {
	e := h.s.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.exec(args[0])
	if x == nil {
		return errorf(http.StatusNotFound, "No such exec instance: "+args[0])
	}
	type processConfig struct {
		Tty        bool     `json:"tty"`
		Entrypoint string   `json:"entrypoint"`
		Arguments  []string `json:"arguments"`
		Privileged bool     `json:"privileged"`
		User       string   `json:"user,omitempty"`
	}
	pid := 0
	if x.Running {
		pid = 3000 + int(x.ID[0])*11
	}
	writeJSON(c.w, http.StatusOK, struct {
		ID            string        `json:"ID"`
		Running       bool          `json:"Running"`
		ExitCode      *int          `json:"ExitCode"`
		ProcessConfig processConfig `json:"ProcessConfig"`
		OpenStdin     bool          `json:"OpenStdin"`
		OpenStderr    bool          `json:"OpenStderr"`
		OpenStdout    bool          `json:"OpenStdout"`
		CanRemove     bool          `json:"CanRemove"`
		ContainerID   string        `json:"ContainerID"`
		DetachKeys    string        `json:"DetachKeys"`
		Pid           int           `json:"Pid"`
	}{x.ID, x.Running, x.ExitCode, processConfig{x.Tty, first(x.Cmd), rest(x.Cmd), x.Privileged, x.User},
		false, true, true, false, x.ContainerID, "", pid})
	return nil
}
