//go:build unix && !linux

package localaws

import "syscall"

// procAttr puts the backend in its own process group, so Stop can end it and
// all its children at once.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
