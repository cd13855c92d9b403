/*
 * The last DENIALS_MAX denied (or, in audit mode, let-through) new connections, for
 * `tiernet log`, and the daemon's own log line for them.  The reader thread (denylog.c)
 * adds, the admin route reads; one mutex, held for a copy, never across I/O.
 *
 * The log line is rate-limited per (source tier, destination tier, protocol, port): the
 * first denial of a key is logged at once, the next ones at most every DENIALS_LOG_S seconds
 * with how many were not logged meanwhile.  The kernel's limit (policy/logrules.c) already
 * bounds the records; this keeps a steady denied flow from filling the journal.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "plugin/plugin.h"

struct entry {
	uint64_t seq;
	int64_t ms; /* wall clock, milliseconds since the epoch */
	struct driver_denial d;
};

struct logkey {
	char src[DRIVER_TIER_TEXT], dst[DRIVER_TIER_TEXT];
	uint8_t proto;
	uint16_t port;
	int64_t last_ms;
	uint64_t quiet; /* denials not logged since last_ms */
};

static struct {
	pthread_mutex_t lock;
	struct entry *ring; /* DENIALS_MAX, allocated at the first denial */
	uint64_t next;	    /* the seq the next entry gets (1 first) */
	struct logkey keys[DENIALS_KEYS_MAX];
	size_t nkeys;
} dn = { .lock = PTHREAD_MUTEX_INITIALIZER, .next = 1 };

static const char *proto_str(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	}
	return "other";
}

/* "10.97.1.2:40000" or "[fd00:97::2]:40000"; without the port for protocols without. */
static void end_str(const struct driver_denial *d, const struct driver_flow_end *e, char *s,
		    size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(d->family, e->addr, ip, sizeof(ip));
	if (d->proto != IPPROTO_TCP && d->proto != IPPROTO_UDP)
		snprintf(s, len, "%s", ip);
	else
		snprintf(s, len, d->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, e->port);
}

/* The key's slot: found, else a free one, else the one logged longest ago. */
static struct logkey *key_slot(const struct driver_denial *d)
{
	struct logkey *k, *old = NULL;
	size_t i;

	for (i = 0; i < dn.nkeys; i++) {
		k = &dn.keys[i];
		if (!strcmp(k->src, d->src.tier) && !strcmp(k->dst, d->dst.tier) &&
		    k->proto == d->proto && k->port == d->dst.port)
			return k;
		if (!old || k->last_ms < old->last_ms)
			old = k;
	}
	k = dn.nkeys < DENIALS_KEYS_MAX ? &dn.keys[dn.nkeys++] : old;
	memset(k, 0, sizeof(*k));
	snprintf(k->src, sizeof(k->src), "%s", d->src.tier);
	snprintf(k->dst, sizeof(k->dst), "%s", d->dst.tier);
	k->proto = d->proto;
	k->port = d->dst.port;
	k->last_ms = INT64_MIN;
	return k;
}

/* Should this denial be logged?  Then *quiet is how many of its key were not.  dn.lock held. */
static bool log_due(const struct driver_denial *d, int64_t ms, uint64_t *quiet)
{
	struct logkey *k = key_slot(d);

	if (k->last_ms != INT64_MIN && ms - k->last_ms < DENIALS_LOG_S * 1000) {
		k->quiet++;
		return false;
	}
	*quiet = k->quiet;
	k->quiet = 0;
	k->last_ms = ms;
	return true;
}

static void log_line(const struct driver_denial *d, uint64_t quiet)
{
	char s[64], t[64];

	end_str(d, &d->src, s, sizeof(s));
	end_str(d, &d->dst, t, sizeof(t));
	log_info("%s %s %s (%s) -> %s (%s): %s%s%s%s [%llu more of this pair in the last %d s "
		 "not logged; tiernet log shows each]",
		 d->audit ? "AUDIT would deny" : "denied", proto_str(d->proto), s, d->src.tier, t,
		 d->dst.tier, d->why, d->fix[0] ? "; to allow it: \"" : "", d->fix,
		 d->fix[0] ? "\"" : "", (unsigned long long)quiet, DENIALS_LOG_S);
}

void denials_add(struct driver_denial *d)
{
	uint64_t quiet = 0;
	struct entry *e;
	int64_t ms = clock_wall_ms();
	bool due;

	driver_deny_describe(d);
	if (d->src.net[0])
		dns_owner(d->family, d->src.addr, d->src.container, sizeof(d->src.container));
	if (d->dst.net[0])
		dns_owner(d->family, d->dst.addr, d->dst.container, sizeof(d->dst.container));
	pthread_mutex_lock(&dn.lock);
	if (!dn.ring)
		dn.ring = calloc(DENIALS_MAX, sizeof(*dn.ring));
	if (dn.ring) {
		e = &dn.ring[(dn.next - 1) % DENIALS_MAX];
		e->seq = dn.next++;
		e->ms = ms;
		e->d = *d;
	}
	due = log_due(d, ms, &quiet);
	pthread_mutex_unlock(&dn.lock);
	if (due)
		log_line(d, quiet);
}

static void add_end(cJSON *o, const char *key, const struct driver_denial *d,
		    const struct driver_flow_end *e)
{
	cJSON *j = cJSON_AddObjectToObject(o, key);
	char ip[INET6_ADDRSTRLEN];

	if (!j)
		return;
	inet_ntop(d->family, e->addr, ip, sizeof(ip));
	cJSON_AddStringToObject(j, "addr", ip);
	cJSON_AddNumberToObject(j, "port", e->port);
	cJSON_AddStringToObject(j, "tier", e->tier);
	cJSON_AddStringToObject(j, "network", e->net);
	cJSON_AddStringToObject(j, "endpoint", e->endpoint);
	cJSON_AddStringToObject(j, "container", e->container);
}

cJSON *denials_entry_json(const struct driver_denial *d, uint64_t seq, int64_t ms)
{
	cJSON *o = cJSON_CreateObject();
	time_t sec = (time_t)(ms / 1000);
	char when[40];
	struct tm tm;

	if (!o)
		return NULL;
	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03dZ",
		 (int)(ms % 1000 + 1000) % 1000);
	cJSON_AddNumberToObject(o, "seq", (double)seq);
	cJSON_AddStringToObject(o, "time", when);
	cJSON_AddNumberToObject(o, "unix_ms", (double)ms);
	cJSON_AddStringToObject(o, "verdict", d->audit ? "would deny" : "denied");
	cJSON_AddBoolToObject(o, "audit", d->audit);
	cJSON_AddStringToObject(o, "family", d->family == AF_INET6 ? "ipv6" : "ipv4");
	cJSON_AddStringToObject(o, "proto", proto_str(d->proto));
	add_end(o, "src", d, &d->src);
	add_end(o, "dst", d, &d->dst);
	cJSON_AddStringToObject(o, "reason", d->reason);
	cJSON_AddStringToObject(o, "why", d->why);
	cJSON_AddStringToObject(o, "fix", d->fix);
	cJSON_AddNumberToObject(o, "fix_at", d->fix_at);
	return o;
}

/* A number member of the request, or def. */
static double req_num(const cJSON *req, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ? v->valuedouble : def;
}

/* The entries after seq `after` and not older than since_ms, oldest first. dn.lock held. */
static void add_entries(cJSON *arr, uint64_t after, int64_t since_ms)
{
	uint64_t first = dn.next > DENIALS_MAX ? dn.next - DENIALS_MAX : 1, s;
	const struct entry *e;

	if (after + 1 > first)
		first = after + 1;
	for (s = first; dn.ring && s < dn.next; s++) {
		e = &dn.ring[(s - 1) % DENIALS_MAX];
		if (e->ms >= since_ms)
			cJSON_AddItemToArray(arr, denials_entry_json(&e->d, e->seq, e->ms));
	}
}

int denials_route(const char *body, size_t len, char **reply, struct err *err)
{
	cJSON *req = cJSON_ParseWithLength(body, len), *o = cJSON_CreateObject(), *arr;
	char audit[512];
	int r = 0;

	if (len && !req) {
		r = err_set(err, EINVAL,
			    "tiernet: the log request is not JSON; send {\"after\": SEQ, "
			    "\"since\": UNIX_MS} or {}");
		goto out;
	}
	arr = cJSON_CreateArray();
	if (!o || !arr) {
		cJSON_Delete(arr);
		r = err_set(err, ENOMEM, "tiernet: out of memory");
		goto out;
	}
	driver_audit_tiers(audit, sizeof(audit));
	cJSON_AddStringToObject(o, "audit", audit);
	cJSON_AddBoolToObject(o, "listening", denylog_listening());
	cJSON_AddNumberToObject(o, "lost", (double)denylog_lost());
	pthread_mutex_lock(&dn.lock);
	add_entries(arr, (uint64_t)req_num(req, "after", 0), (int64_t)req_num(req, "since", 0));
	cJSON_AddNumberToObject(o, "next", (double)dn.next);
	pthread_mutex_unlock(&dn.lock);
	cJSON_AddItemToObject(o, "entries", arr);
	*reply = cJSON_PrintUnformatted(o);
	if (!*reply)
		r = err_set(err, ENOMEM, "tiernet: out of memory");
out:
	cJSON_Delete(req);
	cJSON_Delete(o);
	return r;
}

void denials_reset(void)
{
	pthread_mutex_lock(&dn.lock);
	free(dn.ring);
	dn.ring = NULL;
	dn.next = 1;
	dn.nkeys = 0;
	pthread_mutex_unlock(&dn.lock);
}
