UNIT_TESTS += ws
UNIT_SRCS_ws := mgmt/ws.c mgmt/sha1.c
