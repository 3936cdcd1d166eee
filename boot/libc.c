/*
 * libc.c - the <string.h> functions the loader and kernel/config.c use that
 * gnu-efi's libefi does not provide (libefi has memcpy and memset; linking
 * the kernel's own string.c would define those twice). The link runs with
 * --no-undefined, so a function config.c starts using fails the build here.
 */
#include <string.h>

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp) {
		for (size_t i = 0; i < n; i++)
			dp[i] = sp[i];
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
