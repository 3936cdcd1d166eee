UNIT_TESTS += pci
UNIT_SRCS_pci := drivers/pci.c drivers/pci_irq.c drivers/virtio_pci.c drivers/virtqueue.c
