/* stub_kernel.c: the kernel layer (links, iptables, nftables) stubbed for fuzz_admin. */
#ifndef TIERNET_FUZZ_STUB_KERNEL_H
#define TIERNET_FUZZ_STUB_KERNEL_H

/* When set, iptc_dump() returns a copy of it instead of the last ruleset applied. */
extern const char *fuzz_kernel_dump;
void fuzz_kernel_free(void);

#endif
