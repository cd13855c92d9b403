/*
 * Why a new connection is allowed or denied, in the order the compiler's rules decide it
 * (compile.c): the host opens connections anywhere; a tier's own traffic passes unless the
 * tier is isolated (then only where "allow T -> T PORTS" says); other tiers and the host
 * only along allow lines and their ports; the world only from tiers that are not internal,
 * on networks that are not Docker --internal; and from the world only to published ports of
 * tiers with an "allow world -> T" line (the publishing gate).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/why.h"

static const char *const reason_names[] = {
	[WHY_ALLOWED_EDGE] = "allowed",
	[WHY_ALLOWED_TIER] = "allowed",
	[WHY_ALLOWED_EGRESS] = "allowed",
	[WHY_ALLOWED_HOST] = "allowed",
	[WHY_NO_EDGE] = "no-edge",
	[WHY_PORT] = "port",
	[WHY_ISOLATED] = "isolated",
	[WHY_INTERNAL] = "internal",
	[WHY_DOCKER_INTERNAL] = "docker-internal",
	[WHY_GATE] = "publish-gate",
	[WHY_NOT_PUBLISHED] = "not-published",
};

const char *why_reason_name(enum why_reason r)
{
	if ((size_t)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "unknown";
	return reason_names[r];
}

const char *why_tier_name(const struct policy *pol, int tier)
{
	if (tier == POLICY_WORLD)
		return "world";
	if (tier == POLICY_HOST)
		return "host";
	if (tier < 0 || (size_t)tier >= pol->ntiers)
		return "?";
	return pol->tiers[tier].name;
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

/* Appends to buf[0..len) at *pos, snprintf-like: *pos counts what the text needs. */
static void __attribute__((format(printf, 4, 5)))
put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

static void put_port(char *buf, size_t len, size_t *pos, const struct policy_port *p)
{
	if (p->hi > p->lo)
		put(buf, len, pos, "%s/%u-%u", proto_name(p->proto), p->lo, p->hi);
	else
		put(buf, len, pos, "%s/%u", proto_name(p->proto), p->lo);
}

size_t why_edge_format(const struct policy *pol, const struct policy_edge *e, char *buf, size_t len)
{
	size_t i, pos = 0;

	if (len)
		buf[0] = '\0';
	put(buf, len, &pos, "allow %s -> %s", why_tier_name(pol, e->src),
	    why_tier_name(pol, e->dst));
	for (i = 0; i < e->nports; i++) {
		put(buf, len, &pos, "%s", i ? ", " : " ");
		put_port(buf, len, &pos, &e->ports[i]);
	}
	return pos;
}

/* "tier back internal isolated" without the flags dropped. */
static void tier_line(const struct policy_tier *t, bool internal, char *buf, size_t len)
{
	snprintf(buf, len, "tier %s%s%s", t->name, internal ? " internal" : "",
		 t->isolated ? " isolated" : "");
}

static bool edge_allows(const struct policy_edge *e, uint8_t proto, uint16_t port)
{
	size_t i;

	if (!e->nports || !proto)
		return true;
	for (i = 0; i < e->nports; i++)
		if (e->ports[i].proto == proto && port >= e->ports[i].lo && port <= e->ports[i].hi)
			return true;
	return false;
}

/* " tcp/8080" for a flow with a port, "" for any. */
static void flow_port(const struct why_flow *f, char *buf, size_t len)
{
	if (f->proto)
		snprintf(buf, len, " %s/%u", proto_name(f->proto), f->port);
	else if (len)
		buf[0] = '\0';
}

static void set_edge(const struct policy *pol, const struct policy_edge *e, struct why_verdict *v)
{
	v->line = e->line;
	why_edge_format(pol, e, v->rule, sizeof(v->rule));
}

/* Along an edge: allowed by it, or denied for its ports, or for its absence. */
static void by_edge(const struct policy *pol, const struct why_flow *f, const struct policy_edge *e,
		    enum why_reason missing, struct why_verdict *v)
{
	const char *s = why_tier_name(pol, f->src), *d = why_tier_name(pol, f->dst);
	char p[32];

	flow_port(f, p, sizeof(p));
	if (e && edge_allows(e, f->proto, f->port)) {
		v->allowed = true;
		v->reason = WHY_ALLOWED_EDGE;
		set_edge(pol, e, v);
		snprintf(v->why, sizeof(v->why), "line %u allows %s to open connections to %s%s",
			 e->line, s, d, e->nports ? " on the ports it lists" : " on every port");
		return;
	}
	v->reason = missing;
	if (!e) {
		snprintf(v->fix, sizeof(v->fix), "allow %s -> %s%s", s, d, p);
		if (missing == WHY_GATE)
			snprintf(v->why, sizeof(v->why),
				 "the world reaches only published ports of tiers with an "
				 "\"allow world -> %s\" line, and the policy has none",
				 d);
		else if (missing == WHY_ISOLATED)
			snprintf(v->why, sizeof(v->why),
				 "tier %s is isolated: its containers do not talk to each other "
				 "except on ports an \"allow %s -> %s\" line lists, and there is "
				 "none",
				 s, s, s);
		else
			snprintf(v->why, sizeof(v->why),
				 "no allow line lets %s open connections to %s", s, d);
		return;
	}
	set_edge(pol, e, v);
	v->fix_at = e->line;
	why_edge_format(pol, e, v->fix, sizeof(v->fix));
	snprintf(v->fix + strlen(v->fix), sizeof(v->fix) - strlen(v->fix), ",%s", p);
	if (missing == WHY_ISOLATED)
		snprintf(v->why, sizeof(v->why),
			 "tier %s is isolated, and line %u opens other ports between its "
			 "containers, not%s",
			 s, e->line, p);
	else {
		v->reason = WHY_PORT;
		snprintf(v->why, sizeof(v->why), "line %u lets %s reach %s on other ports, not%s",
			 e->line, s, d, p);
	}
}

/* The tier's "internal" flag denies: the fix is its line without it. */
static void by_internal(const struct policy *pol, int tier, bool out, struct why_verdict *v)
{
	const struct policy_tier *t = &pol->tiers[tier];

	v->reason = WHY_INTERNAL;
	v->line = v->fix_at = t->line;
	tier_line(t, true, v->rule, sizeof(v->rule));
	tier_line(t, false, v->fix, sizeof(v->fix));
	snprintf(v->why, sizeof(v->why), "tier %s is internal: no traffic %s the world", t->name,
		 out ? "to" : "from");
}

static void by_dinternal(const struct policy *pol, int tier, bool out, struct why_verdict *v)
{
	v->reason = WHY_DOCKER_INTERNAL;
	snprintf(v->why, sizeof(v->why),
		 "the %s network (tier %s) was created with Docker's --internal: no traffic %s "
		 "the world whatever the policy says; no policy line changes that, re-create "
		 "the network without --internal",
		 out ? "source" : "destination", why_tier_name(pol, tier), out ? "to" : "from");
}

static bool index_ok(const struct policy *pol, int t)
{
	return t == POLICY_WORLD || t == POLICY_HOST || (t >= 0 && (size_t)t < pol->ntiers);
}

static void decide_world(const struct policy *pol, const struct why_flow *f, struct why_verdict *v)
{
	if (pol->tiers[f->dst].internal)
		by_internal(pol, f->dst, false, v);
	else if (f->dst_dinternal)
		by_dinternal(pol, f->dst, false, v);
	else
		by_edge(pol, f, policy_edge_find(pol, POLICY_WORLD, f->dst), WHY_GATE, v);
}

static void decide_tier(const struct policy *pol, const struct why_flow *f, struct why_verdict *v)
{
	const struct policy_tier *t = &pol->tiers[f->src];

	if (f->dst == POLICY_WORLD) {
		if (t->internal)
			by_internal(pol, f->src, true, v);
		else if (f->src_dinternal)
			by_dinternal(pol, f->src, true, v);
		else {
			v->allowed = true;
			v->reason = WHY_ALLOWED_EGRESS;
			v->line = t->line;
			tier_line(t, false, v->rule, sizeof(v->rule));
			snprintf(v->why, sizeof(v->why),
				 "tier %s is not internal: it reaches the world (masqueraded)",
				 t->name);
		}
	} else if (f->dst == f->src && !t->isolated) {
		v->allowed = true;
		v->reason = WHY_ALLOWED_TIER;
		v->line = t->line;
		tier_line(t, t->internal, v->rule, sizeof(v->rule));
		snprintf(v->why, sizeof(v->why),
			 "containers of tier %s talk to each other: it is not isolated", t->name);
	} else {
		by_edge(pol, f, policy_edge_find(pol, f->src, f->dst),
			f->dst == f->src ? WHY_ISOLATED : WHY_NO_EDGE, v);
	}
}

int why_decide(const struct policy *pol, const struct why_flow *f, struct why_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!index_ok(pol, f->src) || !index_ok(pol, f->dst)) {
		snprintf(v->why, sizeof(v->why), "no such tier");
		return -EINVAL;
	}
	if ((f->src < 0 && f->dst < 0) || (f->src == POLICY_WORLD && f->dst == POLICY_HOST)) {
		snprintf(v->why, sizeof(v->why),
			 "tiernet does not decide connections from %s to %s, only those in and "
			 "out of its tiers",
			 why_tier_name(pol, f->src), why_tier_name(pol, f->dst));
		return -EINVAL;
	}
	if (f->src == POLICY_HOST) {
		v->allowed = true;
		v->reason = WHY_ALLOWED_HOST;
		snprintf(v->why, sizeof(v->why),
			 "the host may always open connections to containers");
	} else if (f->src == POLICY_WORLD) {
		decide_world(pol, f, v);
	} else {
		decide_tier(pol, f, v);
	}
	return 0;
}

int why_fix_line(const struct policy *pol, int src, int dst, uint8_t proto, uint16_t port,
		 char *reason, size_t rlen, char *fix, size_t flen)
{
	struct why_flow f = { .src = src, .dst = dst, .proto = proto, .port = proto ? port : 0 };
	struct why_verdict *v = malloc(sizeof(*v));
	int r;

	if (rlen)
		reason[0] = '\0';
	if (flen)
		fix[0] = '\0';
	if (!v)
		return -ENOMEM;
	r = why_decide(pol, &f, v);
	if (!r) {
		snprintf(reason, rlen, "%s", why_reason_name(v->reason));
		if (!v->allowed)
			snprintf(fix, flen, "%s", v->fix);
	}
	free(v);
	return r;
}

int why_port_parse(const char *text, uint8_t *proto, uint16_t *port, char *err, size_t len)
{
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long n;

	if (!slash || (strncmp(text, "tcp/", 4) && strncmp(text, "udp/", 4)))
		goto bad;
	if (slash[1] < '0' || slash[1] > '9')
		goto bad;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || *end || n < 1 || n > 65535)
		goto bad;
	*proto = text[0] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
	*port = (uint16_t)n;
	return 0;
bad:
	snprintf(err, len,
		 "tiernet: \"%.64s\" is not a port: write PROTO/PORT, tcp or udp and a number "
		 "1-65535, like tcp/8080",
		 text);
	return -EINVAL;
}
