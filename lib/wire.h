/*
 * Reading network byte order out of a packet or a message, at any alignment (a pointer into
 * a buffer is not a pointer to a uint16_t).  A leaf module.
 */
#ifndef TIERNET_WIRE_H
#define TIERNET_WIRE_H

#include <stdint.h>

static inline uint16_t wire_be16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

#endif
