/*
 * tiernet's nat tables "ip tiernet" and "ip6 tiernet" in the kernel, through libnftables:
 * the published ports as map elements (natmap.c writes the text).
 *
 * They sit beside the legacy nat table, where the rest of tiernet's NAT stays (masquerade,
 * the DNS redirect): the kernel runs every nat chain of a hook until one of them binds the
 * connection, and the two never match the same packet (local destinations with a mapped
 * port here; upstream resolvers and leaving traffic there).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/internal.h"

/* What a table holds when it is whole: natmap.c's maps and rules. */
#define MAPS_V4	  3
#define MAPS_V6	  2
#define RULES_ALL 5

static int write_family(FILE *f, int family, const struct policy_map *old, size_t nold,
			const struct policy_map *maps, size_t n, bool full)
{
	if (full)
		return natmap_full(f, family, maps, n);
	if (!nold && !n)
		return 0;
	return natmap_diff(f, family, old, nold, maps, n);
}

static int run_text(const struct nat_maps *old, const struct nat_maps *want, struct err *e)
{
	char *cmd = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	f = open_memstream(&cmd, &len);
	if (!f)
		return err_set(e, ENOMEM, "tiernet: out of memory");
	r = write_family(f, AF_INET, old ? old->v4 : NULL, old ? old->n4 : 0, want->v4, want->n4,
			 !old);
	if (!r)
		r = write_family(f, AF_INET6, old ? old->v6 : NULL, old ? old->n6 : 0, want->v6,
				 want->n6, !old);
	if (fclose(f) || r) {
		r = err_set(e, ENOMEM, "tiernet: out of memory");
		goto out;
	}
	if (len)
		r = nft_batch(cmd, e);
out:
	free(cmd);
	return r;
}

int nat_apply(const struct nat_maps *old, const struct nat_maps *want, struct err *err)
{
	int r = run_text(old, want, err);

	/* An element change fails when someone removed the table: then the whole of it. */
	if (r == -ENOENT && old)
		r = run_text(NULL, want, err);
	if (r)
		err_wrap(err, -r,
			 "tiernet: cannot update the published ports (nftables table "
			 "\"ip " TN_NFT_TABLE "\")");
	return r;
}

int nat_in_place(const struct nat_maps *want, struct err *err)
{
	struct nft_shape v4, v6;
	int r;

	/* A table that does not exist counts 0 maps and 0 rules. */
	r = nft_table_shape("ip " TN_NFT_TABLE, &v4, err);
	if (r)
		return r;
	if (want->n4 ? v4.maps != MAPS_V4 || v4.rules != RULES_ALL : v4.maps || v4.rules)
		return 0;
	r = nft_table_shape("ip6 " TN_NFT_TABLE, &v6, err);
	if (r)
		return r;
	return want->n6 ? v6.maps == MAPS_V6 && v6.rules == RULES_ALL : !v6.maps && !v6.rules;
}
