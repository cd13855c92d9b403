/*
 * The name service as plugin/ sees it: start, stop, status; and what the engine and the
 * resolver share, the name table in force (a read-write lock: many queries read it, an
 * Engine API event replaces it).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns.h"
#include "driver/driver.h"
#include "lib/log.h"

static struct {
	pthread_rwlock_t lock; /* guards table */
	struct nametab table;
	pthread_mutex_t state_lock; /* guards what follows */
	bool started, on, connected;
	char why[512];
	char socket[256];
	char upstream_note[512]; /* the loopback upstream case, when detected */
	uint16_t port;
} svc = { .lock = PTHREAD_RWLOCK_INITIALIZER, .state_lock = PTHREAD_MUTEX_INITIALIZER };

void dns_table_set(struct nametab *t)
{
	struct nametab old;

	pthread_rwlock_wrlock(&svc.lock);
	old = svc.table;
	svc.table = *t;
	pthread_rwlock_unlock(&svc.lock);
	nametab_free(&old);
	memset(t, 0, sizeof(*t));
}

struct nametab *dns_table_get(void)
{
	pthread_rwlock_rdlock(&svc.lock);
	return &svc.table;
}

void dns_table_put(struct nametab *t)
{
	(void)t;
	pthread_rwlock_unlock(&svc.lock);
}

bool dns_owner(int family, const void *addr, char *buf, size_t len)
{
	struct nametab *t = dns_table_get();
	bool found = nametab_owner(t, family, addr, buf, len);

	dns_table_put(t);
	return found;
}

/*
 * The engine connected (the table follows dockerd: redirect the queries) or lost dockerd
 * (stop redirecting: the upstream answers as without tiernet, rather than tiernet answering
 * from a table nobody updates).
 */
void dns_engine_state(bool connected, const char *why)
{
	struct err err;
	bool change;

	pthread_mutex_lock(&svc.state_lock);
	change = connected != svc.connected;
	svc.connected = connected;
	snprintf(svc.why, sizeof(svc.why), "%s", why);
	pthread_mutex_unlock(&svc.state_lock);
	if (!change)
		return;
	if (driver_set_dns_port(connected ? svc.port : 0, &err) < 0)
		log_warnx("names: %s; containers' queries %s", err.msg,
			  connected ? "are not redirected to tiernet's resolver"
				    : "may still be redirected");
}

/*
 * dockerd forwards from the host's namespace when the upstream is on the host's loopback
 * (moby/libnetwork#1595): such queries never cross a tier bridge, so tiernet cannot see
 * them.  The host's resolv.conf tells (dockerd reads systemd-resolved's upstream list when
 * the stub 127.0.0.53 is configured, so that one is no problem).
 */
static void check_loopback_upstream(void)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[512], addr[64];

	svc.upstream_note[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " nameserver %63s", addr) != 1 || strncmp(addr, "127.", 4))
			continue;
		if (!strcmp(addr, "127.0.0.53") &&
		    !access("/run/systemd/resolve/resolv.conf", R_OK))
			continue;
		snprintf(svc.upstream_note, sizeof(svc.upstream_note),
			 "the host's resolver %s is on loopback: dockerd forwards from the host "
			 "for "
			 "containers without --dns, so tiernet cannot answer names across tiers "
			 "for "
			 "them; give containers an upstream off loopback (dockerd --dns ADDR, or "
			 "compose dns:)",
			 addr);
		log_warnx("names: %s", svc.upstream_note);
		break;
	}
	fclose(f);
}

int dns_start(const struct dns_opts *o)
{
	int r;

	svc.port = o->port ? o->port : DNS_PORT_DEFAULT;
	snprintf(svc.socket, sizeof(svc.socket), "%s", o->socket ? o->socket : DNS_DOCKER_SOCKET);
	svc.on = o->on;
	if (!o->on) {
		snprintf(svc.why, sizeof(svc.why), "--names off");
		return 0;
	}
	check_loopback_upstream();
	r = resolver_start(svc.port);
	if (r < 0) {
		snprintf(svc.why, sizeof(svc.why), "the resolver cannot bind UDP port %u: %s",
			 svc.port, strerror(-r));
		svc.on = false;
		return r;
	}
	r = engine_start(svc.socket);
	if (r < 0) {
		resolver_stop();
		svc.on = false;
		return r;
	}
	svc.started = true;
	return 0;
}

void dns_stop(void)
{
	struct nametab t = { 0 };

	if (!svc.started)
		return;
	engine_stop();
	resolver_stop();
	dns_table_set(&t);
	svc.started = false;
}

/* Names per tier as "front 2, mid 1" (or a JSON object) from the view and the table. */
static int net_tier(const void *ctx, const char *net_id)
{
	const struct driver_dns_view *v = ctx;
	size_t i;

	for (i = 0; i < v->nnets; i++)
		if (!strcmp(v->nets[i].id, net_id))
			return v->nets[i].tier;
	return -1;
}

static cJSON *status_obj(void)
{
	struct driver_dns_view v;
	struct resolver_stats st = { 0 };
	struct nametab *t;
	size_t *counts = NULL, i;
	cJSON *o = cJSON_CreateObject(), *per = cJSON_AddObjectToObject(o, "names_per_tier");

	pthread_mutex_lock(&svc.state_lock);
	cJSON_AddStringToObject(o, "state", !svc.on ? "off" : svc.connected ? "on" : "waiting");
	cJSON_AddStringToObject(o, "why", svc.why);
	cJSON_AddStringToObject(o, "docker_socket", svc.socket);
	cJSON_AddNumberToObject(o, "port", svc.port);
	cJSON_AddStringToObject(o, "upstream_warning", svc.upstream_note);
	pthread_mutex_unlock(&svc.state_lock);
	if (svc.on)
		resolver_stats(&st);
	cJSON_AddNumberToObject(o, "answered", (double)st.answered);
	cJSON_AddNumberToObject(o, "nxdomain", (double)st.nxdomain);
	cJSON_AddNumberToObject(o, "forwarded", (double)st.forwarded);
	cJSON_AddNumberToObject(o, "refused", (double)st.refused);
	cJSON_AddNumberToObject(o, "rate_limited", (double)st.limited);
	cJSON_AddNumberToObject(o, "failed", (double)st.failed);
	if (driver_dns_view(&v) < 0)
		return o;
	counts = calloc(v.ntiers + 1, sizeof(*counts));
	if (counts) {
		struct nametab_view nv = { .ntiers = v.ntiers,
					   .tiers = (const char(*)[DNS_TIER_NAME_MAX])v.tiers,
					   .reach = v.reach,
					   .net_tier = net_tier,
					   .ctx = &v };

		t = dns_table_get();
		nametab_count(t, &nv, counts);
		dns_table_put(t);
		for (i = 0; i < v.ntiers; i++)
			cJSON_AddNumberToObject(per, v.tiers[i], (double)counts[i]);
	}
	free(counts);
	driver_dns_view_free(&v);
	return o;
}

static char *status_text(const cJSON *o)
{
	const cJSON *per = cJSON_GetObjectItem(o, "names_per_tier"), *c;
	const char *warn = cJSON_GetStringValue(cJSON_GetObjectItem(o, "upstream_warning"));
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fprintf(f, "\nname service: %s (%s)\n",
		cJSON_GetStringValue(cJSON_GetObjectItem(o, "state")),
		cJSON_GetStringValue(cJSON_GetObjectItem(o, "why")));
	fprintf(f, "  names per tier:");
	cJSON_ArrayForEach(c, per) fprintf(f, " %s %d", c->string, c->valueint);
	fprintf(f,
		"\n  queries: %.0f answered, %.0f nxdomain, %.0f forwarded, %.0f refused, "
		"%.0f rate-limited, %.0f failed\n",
		cJSON_GetNumberValue(cJSON_GetObjectItem(o, "answered")),
		cJSON_GetNumberValue(cJSON_GetObjectItem(o, "nxdomain")),
		cJSON_GetNumberValue(cJSON_GetObjectItem(o, "forwarded")),
		cJSON_GetNumberValue(cJSON_GetObjectItem(o, "refused")),
		cJSON_GetNumberValue(cJSON_GetObjectItem(o, "rate_limited")),
		cJSON_GetNumberValue(cJSON_GetObjectItem(o, "failed")));
	if (warn && warn[0])
		fprintf(f, "  warning: %s\n", warn);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *dns_status(bool json)
{
	cJSON *o = status_obj();
	char *s;

	if (!o)
		return NULL;
	s = json ? cJSON_PrintUnformatted(o) : status_text(o);
	cJSON_Delete(o);
	return s;
}
