package localaws

import "syscall"

// procAttr puts the backend in its own process group, so Stop can end it and
// all its children at once, and has the kernel kill it if the Go process dies
// first (a crashed test run must not leave backends behind).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
