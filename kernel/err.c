/* err.c - names for the KEEL_E* codes of err.h. */
#include "kernel/err.h"

const char *err_str(int err)
{
	switch (err) {
	case KEEL_OK: return "ok";
	case KEEL_ENOMEM: return "out of memory";
	case KEEL_EINVAL: return "invalid argument";
	case KEEL_ENOENT: return "not found";
	case KEEL_ERANGE: return "out of range";
	case KEEL_EBUSY: return "busy";
	case KEEL_EEXIST: return "already exists";
	case KEEL_ECORRUPT: return "malformed data";
	case KEEL_ENOTSUP: return "not supported";
	case KEEL_ETIMEDOUT: return "timed out";
	case KEEL_EIO: return "I/O error";
	}
	return "unknown error";
}
