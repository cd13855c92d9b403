/* `tiernet status`: what the driver holds and what the kernel enforces, as text or JSON. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"
#include "driver/why.h"
#include "lib/log.h"

/* The host side of a mapping in one family: "0.0.0.0:8080", "[::1]:8080". */
static void host_str(const struct driver_port *p, int family, char *s, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (family == AF_INET)
		inet_ntop(AF_INET, &p->host_ip, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, &p->host_ip6, ip, sizeof(ip));
	snprintf(s, len, family == AF_INET ? "%s:%u" : "[%s]:%u", ip, p->host_port);
}

/* One row per mapping and family the kernel holds: IPv6 ones for endpoints with IPv6. */
static void status_ports(cJSON *j, const struct drv_ep *e)
{
	cJSON *a = cJSON_AddArrayToObject(j, "ports");
	char ip[INET6_ADDRSTRLEN], s[80];
	size_t i;
	int fam;

	for (i = 0; a && i < e->nports; i++) {
		for (fam = AF_INET; fam; fam = fam == AF_INET && e->has6 ? AF_INET6 : 0) {
			cJSON *p;

			if (!drv_port_in(&e->ports[i], fam))
				continue;
			p = cJSON_CreateObject();
			host_str(&e->ports[i], fam, s, sizeof(s));
			cJSON_AddStringToObject(p, "host", s);
			inet_ntop(fam, fam == AF_INET ? (const void *)&e->addr : &e->addr6, ip,
				  sizeof(ip));
			snprintf(s, sizeof(s), fam == AF_INET ? "%s:%u" : "[%s]:%u", ip,
				 e->ports[i].port);
			cJSON_AddStringToObject(p, "container", s);
			cJSON_AddStringToObject(p, "proto", drv_proto_str(e->ports[i].proto));
			cJSON_AddItemToArray(a, p);
		}
	}
}

/* The enforced reachability matrix, row by row: {"front": {"mid": "all", ...}, ...}. */
static cJSON *matrix_json(const struct policy_matrix *m)
{
	cJSON *o = cJSON_CreateObject(), *row;
	char cell[512];
	int r, c;

	for (r = 0; o && r <= (int)m->ntiers; r++) {
		int from = r == (int)m->ntiers ? POLICY_WORLD : r;

		row = cJSON_AddObjectToObject(o, from == POLICY_WORLD ? "world"
								      : drv.policy->tiers[r].name);
		for (c = 0; row && c < (int)m->ntiers + 2; c++) {
			int to = c < (int)m->ntiers    ? c
				 : c == (int)m->ntiers ? POLICY_WORLD
						       : POLICY_HOST;
			const struct policy_cell *x = policy_matrix_cell(m, from, to);

			if (x->all || x->nports)
				cJSON_AddStringToObject(row,
							to == POLICY_WORLD ? "world"
							: to == POLICY_HOST
							    ? "host"
							    : drv.policy->tiers[to].name,
							policy_cell_str(x, cell, sizeof(cell)));
		}
	}
	return o;
}

/* The same as a table: rows tiers then world, columns tiers, world, host. */
static void matrix_text(FILE *f, const cJSON *matrix, const cJSON *tiers)
{
	const char *cols[POLICY_TIERS_MAX + 2];
	const cJSON *t, *row;
	size_t n = 0, i;

	cJSON_ArrayForEach(t, tiers) if (n < POLICY_TIERS_MAX) cols[n++] =
	    cJSON_GetStringValue(cJSON_GetObjectItem(t, "name"));
	cols[n] = "world";
	cols[n + 1] = "host";
	fprintf(f, "  %-16s", "FROM \\ TO");
	for (i = 0; i < n + 2; i++)
		fprintf(f, " %-12s", cols[i]);
	fprintf(f, "\n");
	for (i = 0; i <= n; i++) {
		size_t c;

		row = cJSON_GetObjectItem(matrix, cols[i]);
		fprintf(f, "  %-16s", cols[i]);
		for (c = 0; c < n + 2; c++) {
			const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(row, cols[c]));

			fprintf(f, " %-12s", i == n && c >= n ? "" : v ? v : "-");
		}
		fprintf(f, "\n");
	}
}

/* The matrix the rules read back from the kernel enforce, as key ("matrix", "matrix6"). */
static void add_matrix(cJSON *o, const char *key, const struct rules_set *rules)
{
	struct policy_matrix m;
	struct policy_net *pn;
	size_t npn;

	pn = drv_fw_nets(drv.policy, &npn);
	if (pn && !policy_matrix(drv.policy, pn, npn, rules, &m)) {
		cJSON_AddItemToObject(o, key, matrix_json(&m));
		policy_matrix_free(&m);
	}
	free(pn);
}

static void add_net6(cJSON *j, const struct drv_net *n)
{
	char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8];

	if (!n->dual)
		return;
	inet_ntop(AF_INET6, &n->pool6, ip, sizeof(ip));
	snprintf(cidr, sizeof(cidr), "%s/%u", ip, n->prefix6);
	cJSON_AddStringToObject(j, "subnet6", cidr);
	inet_ntop(AF_INET6, &n->gw6, ip, sizeof(ip));
	cJSON_AddStringToObject(j, "gateway6", ip);
}

/* IPv6 forwarding, which dual-stack tiers need to be routed to each other. */
static const char *forwarding6(void)
{
	char c = '0';
	FILE *f;

	if (!drv_any_dual())
		return "not needed (no dual-stack network)";
	f = fopen("/proc/sys/net/ipv6/conf/all/forwarding", "re");
	if (f) {
		c = (char)fgetc(f);
		fclose(f);
	}
	return c == '1' ? "on"
			: "off: dual-stack tiers are not routed to each other; set "
			  "net.ipv6.conf.all.forwarding=1";
}

/* Audit mode, said loudly: what would be denied passes (README "Audit mode"). */
static void add_audit(cJSON *o)
{
	char tiers[512], s[640];

	drv_audit_text(tiers, sizeof(tiers));
	if (!tiers[0])
		return;
	snprintf(s, sizeof(s),
		 "ON for %s%s: new connections the policy denies are LET THROUGH and logged as "
		 "\"would deny\" (tiernet log)",
		 strcmp(tiers, "all") ? "tiers " : "the whole policy",
		 strcmp(tiers, "all") ? tiers : "");
	cJSON_AddStringToObject(o, "audit", s);
}

static cJSON *status_json(const struct rules_set *rules, const struct rules_set *rules6)
{
	cJSON *o = cJSON_CreateObject(), *tiers, *nets, *eps;
	char ip[INET_ADDRSTRLEN], cidr[32];
	struct drv_net *n;
	struct drv_ep *e;
	size_t i;

	if (!o)
		return NULL;
	if (rules)
		add_matrix(o, "matrix", rules);
	if (rules6 && drv_any_dual())
		add_matrix(o, "matrix6", rules6);
	drv_counters_json(o, rules, rules6);
	cJSON_AddStringToObject(o, "ipv6_forwarding", forwarding6());
	add_audit(o);
	cJSON_AddStringToObject(o, "firewall",
				drv.fw_mixed ? "MIXED: a change was half applied and could not be "
					       "put back; tiernet applies the rules again every 2 s"
				: drv.fw_mode == NFT_MODE_NFT ? "nft pass-through + legacy chains"
							      : "legacy chains");
	cJSON_AddStringToObject(o, "br_netfilter",
				drv_br_netfilter()
				    ? "on"
				    : "off: frames between containers of one bridge "
				      "skip iptables, so isolated tiers are NOT isolated; "
				      "load the br_netfilter module");
	tiers = cJSON_AddArrayToObject(o, "tiers");
	for (i = 0; tiers && i < drv.policy->ntiers; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "name", drv.policy->tiers[i].name);
		cJSON_AddBoolToObject(t, "internal", drv.policy->tiers[i].internal);
		cJSON_AddBoolToObject(t, "isolated", drv.policy->tiers[i].isolated);
		cJSON_AddBoolToObject(t, "audit", policy_audited(drv.policy, (int)i));
		cJSON_AddItemToArray(tiers, t);
	}
	nets = cJSON_AddArrayToObject(o, "networks");
	for (n = drv.nets; nets && n; n = n->next) {
		cJSON *j = cJSON_CreateObject();

		drv_ip_str(n->pool, ip);
		snprintf(cidr, sizeof(cidr), "%s/%u", ip, n->prefix);
		cJSON_AddStringToObject(j, "id", n->id);
		cJSON_AddStringToObject(j, "bridge", n->bridge);
		cJSON_AddStringToObject(j, "subnet", cidr);
		drv_ip_str(n->gw, ip);
		cJSON_AddStringToObject(j, "gateway", ip);
		add_net6(j, n);
		cJSON_AddStringToObject(j, "tier", n->tier);
		cJSON_AddBoolToObject(j, "internal", drv_net_internal(n, drv.policy));
		cJSON_AddItemToArray(nets, j);
	}
	eps = cJSON_AddArrayToObject(o, "endpoints");
	for (e = drv.eps; eps && e; e = e->next) {
		cJSON *j = cJSON_CreateObject();

		drv_ip_str(e->addr, ip);
		cJSON_AddStringToObject(j, "id", e->id);
		cJSON_AddStringToObject(j, "network", e->net_id);
		cJSON_AddStringToObject(j, "address", ip);
		if (e->has6) {
			char ip6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &e->addr6, ip6, sizeof(ip6));
			cJSON_AddStringToObject(j, "address6", ip6);
		}
		cJSON_AddStringToObject(j, "veth", e->host);
		cJSON_AddStringToObject(j, "sandbox", e->sandbox);
		status_ports(j, e);
		cJSON_AddItemToArray(eps, j);
	}
	return o;
}

/* A string member, or "" when it is missing (a cJSON_Add* that ran out of memory). */
static const char *jstr(const cJSON *o, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));

	return v ? v : "";
}

static char *status_text(const cJSON *o, const char *rules, const char *rules6)
{
	const cJSON *c, *matrix = cJSON_GetObjectItem(o, "matrix");
	const cJSON *matrix6 = cJSON_GetObjectItem(o, "matrix6");
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (cJSON_GetObjectItem(o, "audit"))
		fprintf(f, "AUDIT MODE %s\n\n", jstr(o, "audit"));
	fprintf(f, "firewall: %s\nbr_netfilter: %s\nipv6 forwarding: %s\n\ntiers:\n",
		jstr(o, "firewall"), jstr(o, "br_netfilter"), jstr(o, "ipv6_forwarding"));
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "tiers"))
	    fprintf(f, "  %s%s%s%s\n", jstr(c, "name"),
		    cJSON_IsTrue(cJSON_GetObjectItem(c, "internal")) ? " internal" : "",
		    cJSON_IsTrue(cJSON_GetObjectItem(c, "isolated")) ? " isolated" : "",
		    cJSON_IsTrue(cJSON_GetObjectItem(c, "audit"))
			? " AUDIT (would-deny let through)"
			: "");
	fprintf(f, "\nnetworks:\n  %-12s  %-15s  %-18s  %-15s  %s\n", "ID", "BRIDGE", "SUBNET",
		"GATEWAY", "TIER");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "networks"))
	{
		fprintf(f, "  %.12s  %-15s  %-18s  %-15s  %s%s\n", jstr(c, "id"), jstr(c, "bridge"),
			jstr(c, "subnet"), jstr(c, "gateway"), jstr(c, "tier"),
			cJSON_IsTrue(cJSON_GetObjectItem(c, "internal")) ? " (internal)" : "");
		if (cJSON_GetObjectItem(c, "subnet6"))
			fprintf(f, "  %12s  %-15s  %s  gateway %s\n", "", "", jstr(c, "subnet6"),
				jstr(c, "gateway6"));
	}
	fprintf(f, "\nendpoints:\n  %-12s  %-12s  %-15s  %-15s  %s\n", "ID", "NETWORK", "ADDRESS",
		"VETH", "SANDBOX");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "endpoints"))
	{
		fprintf(f, "  %.12s  %.12s  %-15s  %-15s  %s\n", jstr(c, "id"), jstr(c, "network"),
			jstr(c, "address"), jstr(c, "veth"), jstr(c, "sandbox"));
		if (cJSON_GetObjectItem(c, "address6"))
			fprintf(f, "  %12s  %12s  %s\n", "", "", jstr(c, "address6"));
	}
	fprintf(f, "\npublished ports:\n  %-12s  %-21s     %s\n", "ENDPOINT", "HOST", "CONTAINER");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "endpoints"))
	{
		const cJSON *p;

		cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "ports"))
		    fprintf(f, "  %.12s  %-21s  -> %s/%s\n", jstr(c, "id"), jstr(p, "host"),
			    jstr(p, "container"), jstr(p, "proto"));
	}
	fprintf(f, "\nreachability, read back from the rules in the kernel (rows open connections "
		   "to columns; all = every port):\n");
	if (matrix)
		matrix_text(f, matrix, cJSON_GetObjectItem(o, "tiers"));
	else
		fprintf(f, "  (unreadable)\n");
	if (matrix6) {
		fprintf(f, "\nIPv6 reachability, read back from the ip6tables rules:\n");
		matrix_text(f, matrix6, cJSON_GetObjectItem(o, "tiers"));
	}
	drv_counters_text(f, o);
	fprintf(f, "\nrules in the kernel (legacy x_tables):\n%s",
		rules ? rules : "(unreadable)\n");
	if (rules6 && rules6[0])
		fprintf(f, "\nIPv6 rules in the kernel (legacy ip6 x_tables):\n%s", rules6);
	if (fclose(f) != 0) {
		free(out);
		out = NULL;
	}
	return out;
}

char *driver_status(bool json)
{
	struct rules_set rs, rs6;
	struct err err;
	char *s = NULL, *text = NULL, *text6 = NULL;
	bool read, read6;
	cJSON *o;

	rules_init(&rs);
	rules_init_family(&rs6, AF_INET6);
	pthread_mutex_lock(&drv.lock);
	read = xt_read(&rs, &err) == 0;
	if (!read)
		log_warnx("%s", err.msg);
	else
		text = rules_dump(&rs);
	read6 = xt6_read(&rs6, &err) == 0;
	if (!read6)
		log_warnx("%s", err.msg);
	else
		text6 = rules_dump(&rs6);
	o = status_json(read ? &rs : NULL, read6 ? &rs6 : NULL);
	if (o && json)
		s = cJSON_Print(o);
	else if (o)
		s = status_text(o, text, text6);
	pthread_mutex_unlock(&drv.lock);
	rules_clear(&rs);
	rules_clear(&rs6);
	free(text);
	free(text6);
	cJSON_Delete(o);
	return s;
}
