UNIT_TESTS += api
UNIT_SRCS_api := mgmt/api.c mgmt/api_vms.c mgmt/auth.c mgmt/images.c \
	mgmt/http.c mgmt/http_parse.c mgmt/ws.c mgmt/sha1.c mgmt/openapi.S \
	mgmt/keelctl/pwhash.c tests/unit/api_fake.c tests/unit/mgmt_test.c
# cJSON and OpenSSL (PBKDF2, SHA-256 in the fake kernel; keelctl's hash)
# from Debian's libcjson-dev and libssl-dev; before the sources on the
# command line, hence --no-as-needed.
$(B)/unit/test_api $(B)/unit-asan/test_api: HOST_CFLAGS += \
	-I/usr/include/cjson -Wl,--no-as-needed -lcjson -lcrypto
# .incbin'd files are not in gcc's dependency lists.
$(B)/unit/test_api $(B)/unit-asan/test_api: mgmt/openapi.json
$(B)/obj/mgmt/openapi.S.o: mgmt/openapi.json
