/*
 * Queries per second per container, pure and in fixed memory: a token bucket per source
 * address in a table of RATELIMIT_SLOTS slots.  Two sources that hash to one slot take its
 * slot in turn (the newer resets it), which can only give a flood more room, never starve
 * a quiet container for long.  Over the limit a query is dropped before any parsing, so a
 * flood from one container costs the others little.
 */
#include "dns/dns.h"

static size_t slot_of(uint32_t src)
{
	/* Knuth's multiplicative hash: container addresses differ in their low bits. */
	return (size_t)((src * 2654435761u) >> 20) % RATELIMIT_SLOTS;
}

bool ratelimit_take(struct ratelimit *rl, uint32_t src, uint64_t now_ms)
{
	struct ratelimit_slot *s = &rl->v[slot_of(src)];
	uint64_t add;

	if (s->key != src) {
		s->key = src;
		s->tokens_milli = DNS_BURST * 1000u;
		s->last_ms = now_ms;
	}
	if (now_ms > s->last_ms) {
		add = (now_ms - s->last_ms) * DNS_QPS;
		s->tokens_milli = add + s->tokens_milli > DNS_BURST * 1000u
				      ? DNS_BURST * 1000u
				      : (uint32_t)(s->tokens_milli + add);
		s->last_ms = now_ms;
	}
	if (s->tokens_milli < 1000)
		return false;
	s->tokens_milli -= 1000;
	return true;
}
