/*
 * The pass-through in Docker's nf_tables DOCKER-USER chain, through libnftables.
 *
 * Why it exists: on a host where Docker writes its rules through iptables-nft, Docker's
 * `ip filter FORWARD` chain (policy DROP) lives in nf_tables, and a packet must be accepted
 * by every loaded filter hook: an ACCEPT in tiernet's legacy chains does not save it from
 * Docker's nft DROP (PROTOCOL.md §11).  So two rules at the top of DOCKER-USER accept
 * traffic in or out of a tiernet link, recognised by its interface group (lib/names.h).
 *
 * Why it fails closed: the rules accept only packets that carry POLICY_FWMARK, and only
 * tiernet's legacy mangle chain sets that mark, for exactly what the policy allows (mangle
 * FORWARD runs before filter FORWARD in both backends).  If someone flushes tiernet's legacy
 * chains, nothing is marked any more, the pass-through matches nothing, and Docker's DROP
 * takes over again: a lost legacy ruleset blocks tiernet traffic instead of letting all of
 * it through.  (The same idea as Docker 29's --bridge-accept-fwmark.)
 *
 * Rules are found again by their comment "tiernet" and deleted by handle; nothing else in
 * Docker's chains is touched.  Each change is one libnftables batch, applied atomically.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <nftables/libnftables.h>

#include "lib/names.h"
#include "policy/internal.h"

#define NFT_TABLE   "filter" /* in family "ip", and "ip6" where Docker keeps IPv6 rules */
#define NFT_CHAIN   "DOCKER-USER"
#define NFT_COMMENT TN_NFT_COMMENT
#define NFT_RULES   2 /* the iifgroup rule, then the oifgroup rule */

/*
 * What one rule of the pass-through looks like in libnftables' stateless JSON output: the
 * interface group under TN_GROUP_MASK (a prefix of 16 bits, as nft prints it) is tiernet's,
 * and the packet carries the mark.
 */
#define EXPR_FMT                                                                                   \
	"[{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"%s\"}}, "                  \
	"\"right\": {\"prefix\": {\"addr\": %u, \"len\": 16}}}}, "                                 \
	"{\"match\": {\"op\": \"==\", \"left\": {\"&\": [{\"meta\": {\"key\": \"mark\"}}, "        \
	"%u]}, \"right\": %u}}, {\"counter\": null}, {\"accept\": null}]"

/* ... and in nft syntax. */
#define RULE_FMT                                                                                   \
	"insert rule %s " NFT_TABLE " " NFT_CHAIN                                                  \
	" meta %s & 0x%08x == 0x%08x meta mark & 0x%08x == "                                       \
	"0x%08x counter accept comment \"" NFT_COMMENT "\"\n"

/* The families of Docker's filter tables: IPv4 always, IPv6 when dockerd runs ip6tables. */
static const char *const families[] = { "ip", "ip6" };

static const char *const ifkeys[NFT_RULES] = { "iifgroup", "oifgroup" };

/* The tiernet rules found in DOCKER-USER, in chain order. */
struct found {
	unsigned long *handles;
	size_t n, cap;
	bool first_ok; /* the chain starts with exactly the wanted rules */
};

struct nft_ctx *nft_open_ctx(unsigned int flags)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!ctx)
		return NULL;
	if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
		nft_ctx_free(ctx);
		return NULL;
	}
	nft_ctx_output_set_flags(ctx, flags);
	return ctx;
}

/*
 * libnftables reports failures only as text; the kernel's part of it is strerror(errno).
 * Recover the errno from that text where we can, so callers get -errno like elsewhere.
 */
static int error_errno(const char *msg)
{
	static const int known[] = { EPERM,  ENOENT, EEXIST, EBUSY,	 EINVAL,
				     ENOMEM, ENOSPC, EAGAIN, EOPNOTSUPP, EACCES };
	size_t i;

	for (i = 0; msg && i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(msg, strerror(known[i])))
			return -known[i];
	return -EIO;
}

/*
 * Runs cmd; on failure puts libnftables' message into e (when not NULL) and returns
 * -errno.
 */
int nft_exec(struct nft_ctx *ctx, const char *cmd, struct err *e)
{
	const char *msg;
	int r;

	if (!nft_run_cmd_from_buffer(ctx, cmd))
		return 0;
	msg = nft_ctx_get_error_buffer(ctx);
	if (!msg || !msg[0])
		msg = "unknown error";
	r = error_errno(msg);
	/* the first line is the message; the rest repeats the command with a caret */
	if (e)
		err_set(e, -r, "nftables: \"%.*s\" failed: %.*s", (int)strcspn(cmd, "\n"), cmd,
			(int)strcspn(msg, "\n"), msg);
	return r;
}

/* Runs a list command and parses its JSON output into *out; e as for run(). */
int nft_list_json(const char *cmd, struct err *e, cJSON **out)
{
	struct nft_ctx *ctx;
	int err;

	ctx = nft_open_ctx(NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS);
	if (!ctx)
		return e ? err_set(e, ENOMEM, "nftables: out of memory") : -ENOMEM;
	err = nft_exec(ctx, cmd, e);
	if (!err) {
		*out = cJSON_Parse(nft_ctx_get_output_buffer(ctx));
		if (!*out && e)
			err = err_set(e, EPROTO, "nftables: \"%s\" printed no JSON", cmd);
		else if (!*out)
			err = -EPROTO;
	}
	nft_ctx_free(ctx);
	return err;
}

int nft_table_shape(const char *table, struct nft_shape *out, struct err *e)
{
	struct nft_ctx *ctx;
	const cJSON *it;
	cJSON *root = NULL;
	char cmd[64];
	int r;

	memset(out, 0, sizeof(*out));
	/* Terse: sets and maps without their elements. */
	ctx = nft_open_ctx(NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_TERSE);
	if (!ctx)
		return err_set(e, ENOMEM, "nftables: out of memory");
	snprintf(cmd, sizeof(cmd), "list table %s", table);
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
		out->sets += cJSON_HasObjectItem(it, "set");
		out->maps += cJSON_HasObjectItem(it, "map");
		out->chains += cJSON_HasObjectItem(it, "chain");
		out->rules += cJSON_HasObjectItem(it, "rule");
	}
	cJSON_Delete(root);
	return 0;
}

/* The objects of one kind ("chain", "rule") in libnftables' {"nftables": [...]} output. */
static const cJSON *json_next(const cJSON *item, const char *kind)
{
	for (; item; item = item->next)
		if (cJSON_GetObjectItemCaseSensitive(item, kind))
			return item;
	return NULL;
}

static bool json_str_is(const cJSON *o, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && !strcmp(v->valuestring, want);
}

/*
 * Does the chain exist?  "list chains" prints chain headers only, so this stays cheap on
 * a host with many rules, and a missing table is not an error.
 */
static bool chain_exists(const char *fam)
{
	const cJSON *it, *c;
	cJSON *root = NULL;
	char cmd[32];
	bool found = false;

	snprintf(cmd, sizeof(cmd), "list chains %s", fam);
	if (nft_list_json(cmd, NULL, &root))
		return false;
	it = cJSON_GetObjectItemCaseSensitive(root, "nftables");
	for (it = it ? json_next(it->child, "chain") : NULL; it && !found;
	     it = json_next(it->next, "chain")) {
		c = cJSON_GetObjectItemCaseSensitive(it, "chain");
		found = json_str_is(c, "table", "filter") && json_str_is(c, "name", NFT_CHAIN);
	}
	cJSON_Delete(root);
	return found;
}

enum nft_mode nft_detect(void)
{
	return chain_exists("ip") ? NFT_MODE_NFT : NFT_MODE_LEGACY;
}

static bool rule_is_wanted(const cJSON *rule, size_t pos)
{
	char want[512];
	cJSON *expr;
	bool same;

	if (pos >= NFT_RULES || !json_str_is(rule, "comment", NFT_COMMENT))
		return false;
	snprintf(want, sizeof(want), EXPR_FMT, ifkeys[pos], TN_GROUP, POLICY_FWMARK, POLICY_FWMARK);
	expr = cJSON_Parse(want);
	if (!expr)
		return false;
	same = cJSON_Compare(cJSON_GetObjectItemCaseSensitive(rule, "expr"), expr, true);
	cJSON_Delete(expr);
	return same;
}

static int found_add(struct found *f, const cJSON *handle)
{
	unsigned long *p;
	size_t ncap;

	if (!cJSON_IsNumber(handle) || handle->valuedouble < 1)
		return -EPROTO;
	if (f->n == f->cap) {
		ncap = f->cap ? f->cap * 2 : 4;
		p = reallocarray(f->handles, ncap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		f->handles = p;
		f->cap = ncap;
	}
	f->handles[f->n++] = (unsigned long)handle->valuedouble;
	return 0;
}

static int scan_rules(const cJSON *root, struct found *f)
{
	const cJSON *it, *r;
	size_t pos = 0;
	bool ok = true;
	int err;

	it = cJSON_GetObjectItemCaseSensitive(root, "nftables");
	for (it = it ? json_next(it->child, "rule") : NULL; it; it = json_next(it->next, "rule")) {
		r = cJSON_GetObjectItemCaseSensitive(it, "rule");
		ok &= pos >= NFT_RULES || rule_is_wanted(r, pos);
		pos++;
		if (!json_str_is(r, "comment", NFT_COMMENT))
			continue;
		err = found_add(f, cJSON_GetObjectItemCaseSensitive(r, "handle"));
		if (err)
			return err;
	}
	f->first_ok = ok && pos >= NFT_RULES && f->n == NFT_RULES;
	return 0;
}

/*
 * Lists DOCKER-USER with handles; -ENOENT when it does not exist.  The caller frees
 * f->handles, also on error.
 */
static int find_rules(const char *fam, struct found *f, struct err *e)
{
	cJSON *root = NULL;
	char cmd[64];
	int err;

	memset(f, 0, sizeof(*f));
	if (!chain_exists(fam))
		return -ENOENT;
	snprintf(cmd, sizeof(cmd), "list chain %s " NFT_TABLE " " NFT_CHAIN, fam);
	err = nft_list_json(cmd, e, &root);
	if (!err) {
		err = scan_rules(root, f);
		if (err)
			err_set(e, -err,
				"nftables: cannot read chain %s " NFT_TABLE " " NFT_CHAIN ": %s",
				fam, strerror(-err));
	}
	cJSON_Delete(root);
	return err;
}

/* Appends one formatted command to a growing batch. */
__attribute__((format(printf, 2, 3))) static int put(FILE *batch, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(batch, fmt, ap);
	va_end(ap);
	return n < 0 ? -ENOMEM : 0;
}

/*
 * The batch: delete every tiernet rule by handle, then (for ensure) insert the two rules.
 * "insert" puts a rule first, so the oifname rule goes in before the iifname one.
 */
static int build_batch(FILE *batch, const char *fam, const struct found *f, bool insert)
{
	size_t i;
	int err = 0;

	for (i = 0; i < f->n && !err; i++)
		err = put(batch, "delete rule %s " NFT_TABLE " " NFT_CHAIN " handle %lu\n", fam,
			  f->handles[i]);
	for (i = NFT_RULES; insert && i > 0 && !err; i--)
		err = put(batch, RULE_FMT, fam, ifkeys[i - 1], TN_GROUP_MASK, TN_GROUP,
			  POLICY_FWMARK, POLICY_FWMARK);
	return err;
}

/* Runs the batch: libnftables sends all its commands as one atomic transaction. */
int nft_batch(const char *cmd, struct err *e)
{
	struct nft_ctx *ctx;
	int err;

	ctx = nft_open_ctx(0);
	if (!ctx)
		return err_set(e, ENOMEM, "nftables: out of memory");
	err = nft_exec(ctx, cmd, e);
	nft_ctx_free(ctx);
	return err;
}

static int update_family(const char *fam, bool insert, struct err *e)
{
	struct found f;
	char *cmd = NULL;
	size_t len = 0;
	FILE *batch;
	int err;

	err = find_rules(fam, &f, e);
	if (err == -ENOENT) {
		err = 0; /* no DOCKER-USER in nf_tables: nothing to open */
		goto out;
	}
	if (err || (insert ? f.first_ok : !f.n))
		goto out;
	batch = open_memstream(&cmd, &len);
	if (!batch) {
		err = err_set(e, ENOMEM, "nftables: out of memory");
		goto out;
	}
	err = build_batch(batch, fam, &f, insert);
	if (fclose(batch) && !err)
		err = -ENOMEM;
	if (err)
		err_set(e, -err, "nftables: cannot build the batch: %s", strerror(-err));
	else
		err = nft_batch(cmd, e);
out:
	if (err)
		err_wrap(e, -err,
			 "tiernet: cannot update the pass-through in Docker's nftables "
			 "%s DOCKER-USER chain",
			 fam);
	free(cmd);
	free(f.handles);
	return err;
}

static int update(bool insert, struct err *e)
{
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(families) / sizeof(families[0]) && !err; i++)
		err = update_family(families[i], insert, e);
	return err;
}

int nft_passthrough_ensure(struct err *e)
{
	return update(true, e);
}

int nft_passthrough_remove(struct err *e)
{
	return update(false, e);
}

/* The string a {"match": {"left": {"meta": {"key": K}}, "right": NAME}} compares K with. */
static const char *meta_ifname(const cJSON *match)
{
	const cJSON *left = cJSON_GetObjectItemCaseSensitive(match, "left");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(left, "meta");
	const cJSON *right = cJSON_GetObjectItemCaseSensitive(match, "right");

	if (!cJSON_IsString(right) ||
	    !(json_str_is(meta, "key", "iifname") || json_str_is(meta, "key", "oifname")))
		return NULL;
	return right->valuestring;
}

int nft_chain_ifnames(const char *chain, void (*fn)(const char *ifname, void *arg), void *arg)
{
	const cJSON *it, *x;
	cJSON *root = NULL;
	char cmd[128];
	const char *name;
	int r;

	snprintf(cmd, sizeof(cmd), "list chain ip " NFT_TABLE " %s", chain);
	r = nft_list_json(cmd, NULL, &root);
	if (r)
		return r == -ENOENT ? 0 : r;
	it = cJSON_GetObjectItemCaseSensitive(root, "nftables");
	for (it = it ? json_next(it->child, "rule") : NULL; it; it = json_next(it->next, "rule")) {
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(
					  cJSON_GetObjectItemCaseSensitive(it, "rule"), "expr"))
		{
			name = meta_ifname(cJSON_GetObjectItemCaseSensitive(x, "match"));
			if (name && strlen(name) < 16)
				fn(name, arg);
		}
	}
	cJSON_Delete(root);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * tiernet's own table "bridge tiernet": the layer-2 guard (l2guard.c writes the text).
 */

#define L2_TABLE "bridge " TN_NFT_TABLE

/* Writes the text with write_text (into a memory stream) and sends it as one batch. */
static int l2_send(void (*write_text)(FILE *f, const void *arg), const void *arg, struct err *e)
{
	char *cmd = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	f = open_memstream(&cmd, &len);
	if (!f)
		return err_set(e, ENOMEM, "tiernet: out of memory");
	write_text(f, arg);
	if (fclose(f)) {
		free(cmd);
		return err_set(e, ENOMEM, "tiernet: out of memory");
	}
	r = len ? nft_batch(cmd, e) : 0;
	free(cmd);
	return r;
}

struct l2_whole {
	bool on;
	const uint32_t *isolated;
	size_t niso;
	const struct l2_ep *eps;
	size_t neps;
};

static void put_whole(FILE *f, const void *arg)
{
	const struct l2_whole *w = arg;

	l2_table_text(f, w->on, w->isolated, w->niso, w->eps, w->neps);
}

int nft_l2_apply(bool on, const uint32_t *isolated, size_t niso, const struct l2_ep *eps,
		 size_t neps, struct err *e)
{
	const struct l2_whole w = { on, isolated, niso, eps, neps };
	int r = l2_send(put_whole, &w, e);

	if (r)
		err_wrap(e, -r, "tiernet: cannot update nftables table " L2_TABLE);
	return r;
}

static void put_add(FILE *f, const void *arg)
{
	l2_element_text(f, true, arg);
}

static void put_del(FILE *f, const void *arg)
{
	l2_element_text(f, false, arg);
}

int nft_l2_element(bool add, const struct l2_ep *ep, struct err *e)
{
	int r = l2_send(add ? put_add : put_del, ep, e);

	if (r)
		err_wrap(e, -r, "tiernet: cannot %s veth %s in nftables table " L2_TABLE,
			 add ? "add" : "delete", ep->ifname);
	return r;
}

int nft_l2_in_place(bool isolated, struct err *e)
{
	struct nft_shape have;
	struct l2_shape want;
	int r;

	l2_table_shape(isolated, &want);
	r = nft_table_shape(L2_TABLE, &have, e);
	if (r)
		return r;
	return have.sets == want.sets && have.chains == want.chains && have.rules == want.rules;
}
