/*
 * The rules that tell the daemon about denied new connections, and audit mode's rules.
 * Pure, like the compiler that calls them.
 *
 * Where: forwarded traffic in mangle TIERNET-LOG, where the chains send what nothing allowed,
 * which is what the filter chains will drop: logged there, before either backend's filter
 * hook.
 * Where Docker keeps its rules in nf_tables, its FORWARD chain (policy DROP, same priority
 * as the legacy filter table) may run first and drop an unmarked packet before filter
 * TIERNET-FWD sees it, so a rule there would miss denials.  To the host: before the DROPs
 * of filter TIERNET-IN (INPUT, where Docker drops nothing).  Established and related
 * packets are allowed (mangle) or accepted (TIERNET-IN) before, so an established stream
 * never meets these rules and its cost does not change.  Only --ctstate NEW is logged: an
 * INVALID packet or the tail of a cut flow is no connection anyone opened.  The layer-2
 * guard's drops (spoofed sources, 127.0.0.0/8, rogue router advertisements) are an attack's
 * symptoms, not policy denials: not logged.
 *
 * The limit: -m limit per rule, POLICY_NFLOG_RATE a second after a burst, so a flood of
 * denied packets costs the kernel one token-bucket check each and the daemon a few records
 * a second, whatever the flood's rate.  The daemon's own log line is rate-limited again per
 * (source tier, destination tier, port) (plugin/denials.c).
 *
 * Audit mode marks in mangle rather than accepting in filter: Docker's nf_tables
 * pass-through accepts only marked packets, so an accept in the legacy filter alone would
 * still meet Docker's FORWARD DROP.  The rules carry --ctstate NEW, which the matrix reader
 * (matrix.c) never takes for an edge: status keeps showing the denial as enforced, and the
 * audit separately.
 */
#include <errno.h>
#include <stdio.h>

#include "policy/internal.h"

bool policy_audited(const struct policy *pol, int t)
{
	return pol->audit || (t >= 0 && (size_t)t < pol->ntiers && pol->tiers[t].audit);
}

bool policy_audit_any(const struct policy *pol)
{
	size_t i;

	for (i = 0; i < pol->ntiers; i++)
		if (policy_audited(pol, (int)i))
			return true;
	return false;
}

static struct rules_rule logrules_rule(enum rules_table t, const char *chain, const char *prefix)
{
	struct rules_rule r = rules_rule_make(t, chain, RULES_NFLOG);

	r.ctstate = RULES_CT_NEW;
	r.limit = POLICY_NFLOG_RATE;
	r.limit_burst = POLICY_NFLOG_BURST;
	r.nflog_group = POLICY_NFLOG_GROUP;
	snprintf(r.nflog_prefix, sizeof(r.nflog_prefix), "%s", prefix);
	return r;
}

int logrules_deny(struct rules_set *rs, enum rules_table t, const char *chain, const char *prefix)
{
	struct rules_rule r = logrules_rule(t, chain, prefix);

	return rules_add(rs, &r);
}

/* One tier's group match on the in (src) or out (dst) side; the whole policy: none. */
static void match_tier(struct rules_rule *r, const struct policy *pol, uint32_t group,
		       uint32_t mask, bool dst)
{
	struct rules_group g = { .on = true, .id = group & mask, .mask = mask };

	if (pol->audit)
		return;
	if (dst)
		r->out_group = g;
	else
		r->in_group = g;
}

/* Calls add for each audited tier with a network (once for the whole policy). */
static int each_audited(struct rules_set *rs, const struct policy *pol, const uint32_t *groups,
			uint32_t mask,
			int (*add)(struct rules_set *, const struct policy *, uint32_t, uint32_t))
{
	size_t i;
	int ret = 0;

	if (pol->audit)
		return add(rs, pol, 0, mask);
	for (i = 0; i < pol->ntiers && !ret; i++)
		if (pol->tiers[i].audit && groups[i])
			ret = add(rs, pol, groups[i], mask);
	return ret;
}

static int audit_host_one(struct rules_set *rs, const struct policy *pol, uint32_t group,
			  uint32_t mask)
{
	struct rules_rule r = logrules_rule(RULES_FILTER, CH_IN, POLICY_LOG_AUDIT_HOST);
	int ret;

	match_tier(&r, pol, group, mask, false);
	ret = rules_add(rs, &r);
	r = rules_rule_make(RULES_FILTER, CH_IN, RULES_ACCEPT);
	r.ctstate = RULES_CT_NEW;
	match_tier(&r, pol, group, mask, false);
	return ret | rules_add(rs, &r);
}

int logrules_audit_host(struct rules_set *rs, const struct policy *pol, const uint32_t *groups,
			uint32_t mask)
{
	return each_audited(rs, pol, groups, mask, audit_host_one) ? -ENOMEM : 0;
}

/* From the tier (dst false) or to it (dst true): log, then mark. */
static int audit_fwd_side(struct rules_set *rs, const struct policy *pol, uint32_t group,
			  uint32_t mask, bool dst)
{
	struct rules_rule r = logrules_rule(RULES_MANGLE, CH_LOG, POLICY_LOG_AUDIT_FWD);
	int ret;

	match_tier(&r, pol, group, mask, dst);
	ret = rules_add(rs, &r);
	r = rules_rule_make(RULES_MANGLE, CH_LOG, RULES_MARK);
	r.set_mark = r.set_mask = POLICY_FWMARK;
	r.ctstate = RULES_CT_NEW;
	match_tier(&r, pol, group, mask, dst);
	return ret | rules_add(rs, &r);
}

static int audit_fwd_one(struct rules_set *rs, const struct policy *pol, uint32_t group,
			 uint32_t mask)
{
	int ret = audit_fwd_side(rs, pol, group, mask, false);

	/* the whole policy: one pair of rules covers both directions */
	if (!ret && !pol->audit)
		ret = audit_fwd_side(rs, pol, group, mask, true);
	return ret;
}

int logrules_fwd(struct rules_set *rs, const struct policy *pol, const uint32_t *groups,
		 uint32_t mask)
{
	/* What the policy allows went to TIERNET-OK instead: nothing here is marked yet. */
	if (each_audited(rs, pol, groups, mask, audit_fwd_one))
		return -ENOMEM;
	return logrules_deny(rs, RULES_MANGLE, CH_LOG, POLICY_LOG_DENY_FWD);
}
