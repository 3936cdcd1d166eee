UNIT_TESTS += pcdev
UNIT_SRCS_pcdev := kernel/vdev/pit.c kernel/vdev/rtc.c kernel/vdev/uart.c kernel/vdev/pm.c kernel/vdev/pci.c kernel/wallclock.c
