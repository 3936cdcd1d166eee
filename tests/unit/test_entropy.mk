# The conditioning hashes with mbedTLS's SHA-256 (third_party/, `make deps`).
ifneq ($(wildcard third_party/mbedtls/library/sha256.c),)
UNIT_TESTS += entropy
UNIT_SRCS_entropy := mgmt/port/entropy_est.c mgmt/fingerprint.c \
	third_party/mbedtls/library/sha256.c \
	third_party/mbedtls/library/platform_util.c
ENTROPY_TEST_CFLAGS := -Imgmt/port -isystem third_party/mbedtls/include \
	-DMBEDTLS_CONFIG_FILE='"keel_mbedtls_config.h"'
$(B)/unit/test_entropy $(B)/unit-asan/test_entropy: \
	HOST_CFLAGS += $(ENTROPY_TEST_CFLAGS)
endif
