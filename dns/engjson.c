/*
 * The Engine API's JSON, pure: a container's inspect into name-table entries (its name on
 * every network, each network's aliases on that network; compose's service names are
 * aliases), the container list into IDs, an event line into the container it concerns.
 * Anything from the socket is untrusted input: sizes are bounded, types checked.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static bool id_ok(const char *s)
{
	size_t i;

	if (!s || strlen(s) != DNS_ID_LEN)
		return false;
	for (i = 0; i < DNS_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/*
 * Adds name on network net (addresses from net's object) to ct, primary when it is the
 * container's own name; -E2BIG past the bound.
 */
static int add_name(struct engjson_ct *ct, const char *name, bool primary, const char *net_id,
		    const cJSON *net)
{
	struct nametab_entry *e;
	const char *a4 = str_of(net, "IPAddress"), *a6 = str_of(net, "GlobalIPv6Address");

	if (!name || !name[0])
		return 0;
	if (ct->n >= DNS_NAMES_PER_CT)
		return -E2BIG;
	e = &ct->v[ct->n];
	memset(e, 0, sizeof(*e));
	if (!nametab_norm(name, e->name, sizeof(e->name)))
		return 0; /* a name DNS cannot carry: nobody can ask for it */
	snprintf(e->net_id, sizeof(e->net_id), "%s", net_id);
	snprintf(e->ct_id, sizeof(e->ct_id), "%s", ct->id);
	e->primary = primary;
	if (a4 && inet_pton(AF_INET, a4, &e->addr4) != 1)
		e->addr4 = 0;
	e->has6 = a6 && inet_pton(AF_INET6, a6, &e->addr6) == 1;
	if (!e->addr4 && !e->has6)
		return 0;
	ct->n++;
	return 0;
}

static int add_network(struct engjson_ct *ct, const char *name, const cJSON *net)
{
	const char *net_id = str_of(net, "NetworkID");
	const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(net, "Aliases"), *a;
	int r;

	if (!id_ok(net_id))
		return 0;
	r = add_name(ct, name, true, net_id, net);
	if (!cJSON_IsArray(aliases))
		return r;
	cJSON_ArrayForEach(a, aliases)
	{
		if (r < 0)
			break;
		if (cJSON_IsString(a) && strcmp(a->valuestring, name))
			r = add_name(ct, a->valuestring, false, net_id, net);
	}
	return r;
}

int engjson_container(const char *body, size_t len, struct engjson_ct *ct)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *state, *nets, *net;
	const char *id, *name;
	int r = 0;

	memset(ct, 0, sizeof(*ct));
	id = str_of(root, "Id");
	name = str_of(root, "Name");
	if (!cJSON_IsObject(root) || !id_ok(id) || !name) {
		r = -EINVAL;
		goto out;
	}
	snprintf(ct->id, sizeof(ct->id), "%s", id);
	if (name[0] == '/')
		name++;
	state = cJSON_GetObjectItemCaseSensitive(root, "State");
	ct->running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "Running"));
	nets = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root,
										 "NetworkSettings"),
						"Networks");
	if (!ct->running || !cJSON_IsObject(nets))
		goto out;
	ct->v = calloc(DNS_NAMES_PER_CT, sizeof(*ct->v));
	if (!ct->v) {
		r = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(net, nets)
	{
		r = add_network(ct, name, net);
		if (r < 0)
			break;
	}
out:
	if (r < 0)
		engjson_ct_free(ct);
	cJSON_Delete(root);
	return r;
}

void engjson_ct_free(struct engjson_ct *ct)
{
	free(ct->v);
	ct->v = NULL;
	ct->n = 0;
}

int engjson_list(const char *body, size_t len, char (**ids)[DNS_ID_LEN + 1], size_t *n)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *c;
	int r = 0, count;

	*ids = NULL;
	*n = 0;
	if (!cJSON_IsArray(root)) {
		r = -EINVAL;
		goto out;
	}
	count = cJSON_GetArraySize(root);
	*ids = calloc((size_t)count + 1, sizeof(**ids));
	if (!*ids) {
		r = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(c, root)
	{
		const char *id = str_of(c, "Id");

		if (id_ok(id))
			snprintf((*ids)[(*n)++], DNS_ID_LEN + 1, "%s", id);
	}
out:
	cJSON_Delete(root);
	return r;
}

int engjson_event(const char *line, size_t len, char id[DNS_ID_LEN + 1])
{
	cJSON *root = cJSON_ParseWithLength(line, len);
	const cJSON *actor;
	const char *type, *cid = NULL;
	int r = 0;

	if (!cJSON_IsObject(root)) {
		r = -EINVAL;
		goto out;
	}
	type = str_of(root, "Type");
	actor = cJSON_GetObjectItemCaseSensitive(root, "Actor");
	if (type && !strcmp(type, "container"))
		cid = str_of(actor, "ID");
	else if (type && !strcmp(type, "network"))
		cid = str_of(cJSON_GetObjectItemCaseSensitive(actor, "Attributes"), "container");
	if (id_ok(cid)) {
		snprintf(id, DNS_ID_LEN + 1, "%s", cid);
		r = 1;
	}
out:
	cJSON_Delete(root);
	return r;
}
