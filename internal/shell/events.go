package shell

import "decnet/internal/event"

// EventHooks are the Hooks of a login service (ssh, telnet) that reports
// shell activity as events: every command line, every file written
// (file_captured, with the stored copy), every download attempt. emit
// gets the type, severity and fields of each; user is in every one.
func EventHooks(user string, emit func(typ string, sev event.Severity, fields map[string]string)) Hooks {
	return Hooks{
		Command: func(line string) {
			emit(event.TypeCommand, event.Notice, map[string]string{event.FieldCommand: event.Clip(line, 4096), event.FieldUsername: user})
		},
		File: func(f FileWrite) {
			fields := f.Fields(f.Path)
			fields[event.FieldUsername] = user
			emit(event.TypeFileCaptured, event.Warning, fields)
		},
		Download: func(d Download) {
			emit("download", event.Warning, map[string]string{"url": event.Clip(d.URL, 2048), "tool": d.Tool, event.FieldUsername: user})
		},
	}
}
