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
	return containerKind.with(e, args[0], func(ct *container) error {
		x := &execInst{ID: randomID(), ContainerID: ct.ID, Cmd: b.Cmd, User: b.User, WorkDir: b.WorkingDir, Tty: b.Tty,
			Privileged: b.Privileged, Stdin: b.AttachStdin}
		h.action(c, "exec_create", ct, map[string]string{
			event.FieldCommand: event.Clip(strings.Join(b.Cmd, " "), 4096), "cmd": jsonField(b.Cmd, 4096),
			"exec_id": x.ID, "user": event.Clip(b.User, 128), "privileged": boolString(b.Privileged),
			"tty": boolString(b.Tty), "env": jsonField(b.Env, 2048)})
		if !ct.Running {
			return notRunning(ct.ID)
		}
		if len(b.Cmd) == 0 {
			return errorf(http.StatusBadRequest, "No exec command specified")
		}
		e.addExec(x)
		writeJSON(c.w, http.StatusCreated, struct {
			ID string `json:"Id"`
		}{x.ID})
		return nil
	})
}

// notRunning is the engine's 409 for a container that has to run.
func notRunning(id string) error {
	return errorf(http.StatusConflict, "Container "+id+" is not running")
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
	var x *execInst
	var ct *container
	err := execKind.with(e, args[0], func(found *execInst) error {
		x, ct = found, e.lookup(found.ContainerID)
		if ct == nil || !ct.Running {
			return notRunning(x.ContainerID)
		}
		x.Running = true
		return nil
	})
	if err != nil {
		return err
	}
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
	return execKind.with(h.s.eng, args[0], func(*execInst) error {
		c.w.WriteHeader(http.StatusOK)
		return nil
	})
}

func (h *handler) execInspect(c *call, args []string) error {
	return execKind.with(h.s.eng, args[0], func(x *execInst) error {
		writeJSON(c.w, http.StatusOK, x.inspect())
		return nil
	})
}

// execJSON is an exec instance's inspect body.
type execJSON struct {
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
}

type processConfig struct {
	Tty        bool     `json:"tty"`
	Entrypoint string   `json:"entrypoint"`
	Arguments  []string `json:"arguments"`
	Privileged bool     `json:"privileged"`
	User       string   `json:"user,omitempty"`
}

// inspect is x's inspect body; the engine lock is held.
func (x *execInst) inspect() execJSON {
	pid := 0
	if x.Running {
		pid = 3000 + int(x.ID[0])*11
	}
	return execJSON{x.ID, x.Running, x.ExitCode, processConfig{x.Tty, first(x.Cmd), rest(x.Cmd), x.Privileged, x.User},
		false, true, true, false, x.ContainerID, "", pid}
}
