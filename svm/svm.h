/*
 * svm.h - the AMD-V (SVM) backend as the virtualization core sees it: one
 * struct virt_backend (kernel/virt/virt.h). Everything else of svm/ is
 * private to it (svm_softc.h, vmcb.h).
 */
#ifndef KEEL_SVM_H
#define KEEL_SVM_H

#include "kernel/virt/virt.h"

extern const struct virt_backend svm_backend;

#endif
