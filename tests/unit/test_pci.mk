UNIT_TESTS += pci
UNIT_SRCS_pci := drivers/pci.c drivers/virtio_pci.c drivers/virtqueue.c
