/*
 * shell.h - the local console: a few commands typed on Keel's serial console
 * (help, status, poweroff, reboot, log) and the ACPI power button; and the
 * thread that writes the log to the consoles.
 */
#ifndef KEEL_SHELL_H
#define KEEL_SHELL_H

void shell_start(void);

#endif
