/*
 * Comparing rule sets table by table, so that a change commits only the tables whose content
 * changed: a libiptc commit replaces a whole table (about 1.3 us per rule it holds, plus the
 * snapshot), and a published port changes only the nat table of one family.
 */
#include <stddef.h>
#include <string.h>

#include "policy/policy.h"

static bool group_equal(const struct rules_group *a, const struct rules_group *b)
{
	return a->on == b->on &&
	       (!a->on || (a->inv == b->inv && a->id == b->id && a->mask == b->mask));
}

static bool addr6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Field by field: padding and the bytes after a string's NUL may differ between copies. */
bool rules_rule_equal(const struct rules_rule *a, const struct rules_rule *b)
{
	return a->table == b->table && a->family == b->family && !strcmp(a->chain, b->chain) &&
	       !strcmp(a->in, b->in) && !strcmp(a->out, b->out) && a->in_inv == b->in_inv &&
	       a->out_inv == b->out_inv && a->src == b->src && a->smsk == b->smsk &&
	       a->dst == b->dst && a->dmsk == b->dmsk && addr6_equal(&a->src6, &b->src6) &&
	       addr6_equal(&a->smsk6, &b->smsk6) && addr6_equal(&a->dst6, &b->dst6) &&
	       addr6_equal(&a->dmsk6, &b->dmsk6) && a->src_inv == b->src_inv &&
	       a->dst_inv == b->dst_inv && a->proto == b->proto && a->dport_lo == b->dport_lo &&
	       a->dport_hi == b->dport_hi && a->icmp_match == b->icmp_match &&
	       a->icmp_type == b->icmp_type && group_equal(&a->in_group, &b->in_group) &&
	       group_equal(&a->out_group, &b->out_group) && a->rpf_invert == b->rpf_invert &&
	       a->ctstate == b->ctstate && a->mark_match == b->mark_match && a->mark == b->mark &&
	       a->mark_mask == b->mark_mask && a->local_dst == b->local_dst &&
	       !strcmp(a->comment, b->comment) && !strcmp(a->unknown, b->unknown) &&
	       a->verdict == b->verdict && !strcmp(a->target, b->target) &&
	       a->set_mark == b->set_mark && a->set_mask == b->set_mask &&
	       a->to_addr == b->to_addr && addr6_equal(&a->to_addr6, &b->to_addr6) &&
	       a->to_port_lo == b->to_port_lo && a->to_port_hi == b->to_port_hi;
}

/* table_at() reads an element's table from its first bytes. */
_Static_assert(offsetof(struct rules_chain, table) == 0 &&
		   offsetof(struct rules_hook, table) == 0 &&
		   offsetof(struct rules_rule, table) == 0,
	       "chains, hooks and rules must begin with their table");

static bool chain_equal(const void *a, const void *b)
{
	return !strcmp(((const struct rules_chain *)a)->name,
		       ((const struct rules_chain *)b)->name);
}

static bool hook_equal(const void *a, const void *b)
{
	const struct rules_hook *x = a, *y = b;

	return !strcmp(x->from, y->from) && !strcmp(x->to, y->to);
}

static bool rule_equal(const void *a, const void *b)
{
	return rules_rule_equal(a, b);
}

/* The element at index i of an array of elements of size bytes that begin with their table. */
static enum rules_table table_at(const void *v, size_t size, size_t i)
{
	return *(const enum rules_table *)((const char *)v + i * size);
}

/*
 * Do a[0..na) and b[0..nb), arrays of chains, hooks or rules (each begins with its table),
 * hold the same elements of table t in the same order?
 */
static bool seq_equal(const void *a, size_t na, const void *b, size_t nb, size_t size,
		      enum rules_table t, bool (*eq)(const void *, const void *))
{
	size_t i = 0, j = 0;

	for (;; i++, j++) {
		while (i < na && table_at(a, size, i) != t)
			i++;
		while (j < nb && table_at(b, size, j) != t)
			j++;
		if (i == na || j == nb)
			return i == na && j == nb;
		if (!eq((const char *)a + i * size, (const char *)b + j * size))
			return false;
	}
}

bool rules_table_equal(const struct rules_set *a, const struct rules_set *b, enum rules_table t)
{
	return a->family == b->family &&
	       seq_equal(a->chains, a->nchains, b->chains, b->nchains, sizeof(*a->chains), t,
			 chain_equal) &&
	       seq_equal(a->hooks, a->nhooks, b->hooks, b->nhooks, sizeof(*a->hooks), t,
			 hook_equal) &&
	       seq_equal(a->rules, a->nrules, b->rules, b->nrules, sizeof(*a->rules), t,
			 rule_equal);
}
