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
#include <string.h>

#include <cjson/cJSON.h>
#include <nftables/libnftables.h>

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

/* Counts family's table's maps and rules (0, 0 when it does not exist). */
static int count_table(int family, unsigned *maps, unsigned *rules, struct err *e)
{
	struct nft_ctx *ctx;
	const cJSON *it;
	cJSON *root = NULL;
	char cmd[64];
	int r;

	*maps = *rules = 0;
	/* Terse: the maps without their elements, so the cost does not grow with the ports. */
	ctx = nft_open_ctx(NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_TERSE);
	if (!ctx)
		return err_set(e, ENOMEM, "nftables: out of memory");
	snprintf(cmd, sizeof(cmd), "list table %s " TN_NFT_TABLE,
		 family == AF_INET6 ? "ip6" : "ip");
	r = nft_exec(ctx, cmd, e);
	if (!r)
		root = cJSON_Parse(nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	if (r == -ENOENT)
		return 0; /* no such table */
	if (r)
		return r;
	if (!root)
		return err_set(e, EPROTO, "nftables: \"%s\" printed no JSON", cmd);
	it = cJSON_GetObjectItemCaseSensitive(root, "nftables");
	for (it = it ? it->child : NULL; it; it = it->next) {
		*maps += cJSON_HasObjectItem(it, "map");
		*rules += cJSON_HasObjectItem(it, "rule");
	}
	cJSON_Delete(root);
	return 0;
}

int nat_in_place(const struct nat_maps *want, struct err *err)
{
	unsigned maps, rules;
	int r;

	r = count_table(AF_INET, &maps, &rules, err);
	if (r)
		return r;
	if (want->n4 ? maps != MAPS_V4 || rules != RULES_ALL : maps || rules)
		return 0;
	r = count_table(AF_INET6, &maps, &rules, err);
	if (r)
		return r;
	return want->n6 ? maps == MAPS_V6 && rules == RULES_ALL : !maps && !rules;
}
