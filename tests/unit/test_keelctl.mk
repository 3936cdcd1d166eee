UNIT_TESTS += keelctl
UNIT_SRCS_keelctl := mgmt/keelctl/args.c mgmt/keelctl/table.c mgmt/keelctl/conf.c mgmt/keelctl/pwhash.c mgmt/keelctl/ws.c mgmt/keelctl/reply.c
# keelctl is a host program: PBKDF2, SHA-1 and random bytes from libcrypto,
# JSON from cJSON. The shared unit-test rule has no per-test libraries, so
# they ride on its flags (shared libraries, so their place on the line does
# not matter; --no-as-needed keeps it so where the linker defaults otherwise).
$(B)/unit/test_keelctl $(B)/unit-asan/test_keelctl: HOST_CFLAGS += -Wl,--no-as-needed -lcrypto -lcjson
