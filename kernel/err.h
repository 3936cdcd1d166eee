/*
 * err.h - the one set of error codes. Functions that can fail return 0 or a
 * negative KEEL_E* value; err_str() names it for messages.
 */
#ifndef KEEL_ERR_H
#define KEEL_ERR_H

enum keel_err {
	KEEL_OK = 0,
	KEEL_ENOMEM = -1,   /* out of memory */
	KEEL_EINVAL = -2,   /* invalid argument or value */
	KEEL_ENOENT = -3,   /* no such thing */
	KEEL_ERANGE = -4,   /* out of range */
	KEEL_EBUSY = -5,    /* in use */
	KEEL_EEXIST = -6,   /* already exists */
	KEEL_ECORRUPT = -7, /* malformed data (bad checksum, bad length) */
	KEEL_ENOTSUP = -8,  /* not supported by this hardware or build */
	KEEL_ETIMEDOUT = -9,
	KEEL_EIO = -10,
};

const char *err_str(int err);

#endif
