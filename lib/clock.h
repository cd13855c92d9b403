/*
 * Milliseconds from the two clocks tiernet reads: the monotonic one for deadlines and rates
 * (a clock step must not fire or stall them), the wall clock for times shown to a user or
 * compared with the kernel's record times.  A leaf module.
 */
#ifndef TIERNET_CLOCK_H
#define TIERNET_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t clock_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static inline int64_t clock_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

#endif
