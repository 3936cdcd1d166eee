UNIT_TESTS += http
UNIT_SRCS_http := mgmt/http.c mgmt/http_parse.c mgmt/ws.c mgmt/sha1.c tests/unit/mgmt_test.c
