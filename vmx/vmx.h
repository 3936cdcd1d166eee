/*
 * vmx.h - the Intel VT-x (VMX) backend as the virtualization core sees it:
 * one struct virt_backend (kernel/virt/virt.h). Everything else of vmx/ is
 * private to it (vmx_softc.h, vmcs.h).
 */
#ifndef KEEL_VMX_H
#define KEEL_VMX_H

#include "kernel/virt/virt.h"

extern const struct virt_backend vmx_backend;

#endif
