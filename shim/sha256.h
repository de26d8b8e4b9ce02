/* SHA-256 (FIPS 180-4), only to name the shim socket the way containerd and `ctr shim` expect:
 * the hex digest of "<address>/<namespace>/<group id>". */
#ifndef MINI_SHIM_SHA256_H
#define MINI_SHIM_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Writes the 64 lowercase hex digits of SHA-256(data) and a NUL into hex. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
