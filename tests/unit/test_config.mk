UNIT_TESTS += config
UNIT_SRCS_config := kernel/config.c kernel/config_keys.c
