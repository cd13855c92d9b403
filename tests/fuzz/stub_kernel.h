/* stub_kernel.c: the kernel layer (links, iptables, nftables) stubbed for fuzz_admin. */
#ifndef TIERNET_FUZZ_STUB_KERNEL_H
#define TIERNET_FUZZ_STUB_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/*
 * When set, xt_read() returns the rules these bytes describe (eight bytes a rule) instead of
 * the last ruleset applied.
 */
extern const uint8_t *fuzz_kernel_rules;
extern size_t fuzz_kernel_rules_len;
void fuzz_kernel_free(void);

#endif
