/*
 * e1000e.h - the Intel 82574 GbE driver (drivers/e1000e.c): registered with
 * the PCI bus before pci_init(), it makes each 82574 an "e1000e<n>" netdev.
 */
#ifndef KEEL_DRIVERS_E1000E_H
#define KEEL_DRIVERS_E1000E_H

void e1000e_register(void);

#endif
