/*
 * The persisted state: dockerd replays nothing to a restarted plugin (PROTOCOL.md §8), so
 * every network and endpoint lives on disk before the reply that depends on it.  One small
 * JSON file per object keeps a join O(1) in the number of containers; a file is replaced by
 * write-to-temp, fsync, rename, fsync of the directory, so a crash leaves either the old or
 * the new version, never half of one.  Each file carries a format version.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "driver/internal.h"
#include "lib/names.h"

#define STATE_VERSION  1
#define STATE_FILE_MAX (64 * 1024)

static char state_dir[DRIVER_PATH_MAX];

static int mkdir_0700(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

int state_open(const char *dir, struct err *err)
{
	char p[DRIVER_PATH_MAX + 16];
	int r;

	if (strlen(dir) >= sizeof(state_dir) - 16)
		return err_set(err, ENAMETOOLONG, "tiernet: state directory \"%s\" is too long",
			       dir);
	snprintf(state_dir, sizeof(state_dir), "%s", dir);
	r = mkdir_0700(dir);
	snprintf(p, sizeof(p), "%s/networks", dir);
	if (!r)
		r = mkdir_0700(p);
	snprintf(p, sizeof(p), "%s/endpoints", dir);
	if (!r)
		r = mkdir_0700(p);
	if (r)
		return err_set(err, -r, "tiernet: cannot create state directory %s: %s", p,
			       strerror(-r));
	return 0;
}

const char *state_where(void)
{
	return state_dir;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_atomic(const char *kind, const char *id, const char *text)
{
	char dir[DRIVER_PATH_MAX + 16], path[DRIVER_PATH_MAX + 96], tmp[DRIVER_PATH_MAX + 96];
	int fd, r;

	snprintf(dir, sizeof(dir), "%s/%s", state_dir, kind);
	snprintf(path, sizeof(path), "%s/%s.json", dir, id);
	/*
	 * A temporary name of its own for every write: two writes of one object can overlap
	 * (the caller serialises them, but a shared name would still let one rename the
	 * other's half-written file).  The loader removes ".*.tmp" leftovers of a crash.
	 */
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX.tmp", dir, id);
	fd = mkostemps(tmp, 4, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, strlen(text));
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (!r)
		r = fsync_dir(dir);
	if (r)
		unlink(tmp);
	return r;
}

static void add_ip(cJSON *o, const char *key, uint32_t a)
{
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, s, sizeof(s));
	cJSON_AddStringToObject(o, key, s);
}

static void add_ip6(cJSON *o, const char *key, const struct in6_addr *a)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, s, sizeof(s));
	cJSON_AddStringToObject(o, key, s);
}

static int save(const char *kind, const char *id, cJSON *o, struct err *err)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	int r;

	cJSON_Delete(o);
	if (!text)
		return err_set(err, ENOMEM, "tiernet: out of memory saving %s %.12s", kind, id);
	r = write_atomic(kind, id, text);
	free(text);
	if (r)
		return err_set(err, -r, "tiernet: cannot save state of %.12s in %s/%s: %s", id,
			       state_dir, kind, strerror(-r));
	return 0;
}

int state_save_net(const struct drv_net *n, struct err *err)
{
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddNumberToObject(o, "version", STATE_VERSION);
		cJSON_AddStringToObject(o, "id", n->id);
		cJSON_AddStringToObject(o, "bridge", n->bridge);
		cJSON_AddStringToObject(o, "tier", n->tier);
		add_ip(o, "gateway", n->gw);
		add_ip(o, "pool", n->pool);
		cJSON_AddNumberToObject(o, "prefix", n->prefix);
		cJSON_AddNumberToObject(o, "mtu", n->mtu);
		cJSON_AddBoolToObject(o, "internal", n->internal);
		cJSON_AddNumberToObject(o, "seq", (double)n->seq);
		cJSON_AddNumberToObject(o, "tier_id", n->tier_id);
		if (n->dual) {
			add_ip6(o, "gateway6", &n->gw6);
			add_ip6(o, "pool6", &n->pool6);
			cJSON_AddNumberToObject(o, "prefix6", n->prefix6);
		}
	}
	return save("networks", n->id, o, err);
}

static void add_ports(cJSON *o, const struct drv_ep *e)
{
	cJSON *a = cJSON_AddArrayToObject(o, "ports");
	size_t i;

	for (i = 0; a && i < e->nports; i++) {
		cJSON *p = cJSON_CreateObject();

		if (!p || !cJSON_AddItemToArray(a, p))
			return;
		cJSON_AddNumberToObject(p, "proto", e->ports[i].proto);
		cJSON_AddNumberToObject(p, "port", e->ports[i].port);
		add_ip(p, "host_ip", e->ports[i].host_ip);
		cJSON_AddNumberToObject(p, "host_port", e->ports[i].host_port);
		/* absent: both families (the files of tiernets before IPv6 say nothing) */
		if (e->ports[i].family)
			cJSON_AddNumberToObject(p, "family",
						e->ports[i].family == AF_INET6 ? 6 : 4);
		if (e->ports[i].family == AF_INET6)
			add_ip6(p, "host_ip6", &e->ports[i].host_ip6);
	}
}

int state_save_ep(const struct drv_ep *e, struct err *err)
{
	cJSON *o = cJSON_CreateObject();
	char mac[18];

	if (o) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1],
			 e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
		cJSON_AddNumberToObject(o, "version", STATE_VERSION);
		cJSON_AddStringToObject(o, "id", e->id);
		cJSON_AddStringToObject(o, "network", e->net_id);
		add_ip(o, "address", e->addr);
		cJSON_AddNumberToObject(o, "prefix", e->prefix);
		if (e->has6) {
			add_ip6(o, "address6", &e->addr6);
			cJSON_AddNumberToObject(o, "prefix6", e->prefix6);
		}
		cJSON_AddStringToObject(o, "mac", mac);
		cJSON_AddStringToObject(o, "host_if", e->host);
		cJSON_AddStringToObject(o, "peer_if", e->peer);
		cJSON_AddStringToObject(o, "sandbox", e->sandbox);
		cJSON_AddBoolToObject(o, "joined", e->joined);
		add_ports(o, e);
	}
	return save("endpoints", e->id, o, err);
}

/* In a batch (start-up reconciliation), removals share one directory fsync at the end. */
static bool state_batching, state_dirty;

void state_batch(bool on)
{
	char dir[DRIVER_PATH_MAX + 16];

	state_batching = on;
	if (on || !state_dirty)
		return;
	snprintf(dir, sizeof(dir), "%s/networks", state_dir);
	fsync_dir(dir);
	snprintf(dir, sizeof(dir), "%s/endpoints", state_dir);
	fsync_dir(dir);
	state_dirty = false;
}

static int del(const char *kind, const char *id)
{
	char path[DRIVER_PATH_MAX + 96], dir[DRIVER_PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/%s", state_dir, kind);
	snprintf(path, sizeof(path), "%s/%s.json", dir, id);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	if (state_batching) {
		state_dirty = true;
		return 0;
	}
	return fsync_dir(dir);
}

int state_set_aside_ep(const char *id)
{
	char path[DRIVER_PATH_MAX + 96], aside[DRIVER_PATH_MAX + 112];

	snprintf(path, sizeof(path), "%s/endpoints/%s.json", state_dir, id);
	snprintf(aside, sizeof(aside), "%s.orphaned", path);
	return rename(path, aside) < 0 ? -errno : 0;
}

int state_del_net(const char *id)
{
	return del("networks", id);
}

int state_del_ep(const char *id)
{
	return del("endpoints", id);
}

/* ---- loading ---- */

static const char *get_str(const cJSON *o, const char *key, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= max)
		return NULL;
	return v->valuestring;
}

static bool get_ip(const cJSON *o, const char *key, uint32_t *out)
{
	const char *s = get_str(o, key, INET_ADDRSTRLEN);

	return s && inet_pton(AF_INET, s, out) == 1;
}

static bool get_ip6(const cJSON *o, const char *key, struct in6_addr *out)
{
	const char *s = get_str(o, key, INET6_ADDRSTRLEN);

	return s && inet_pton(AF_INET6, s, out) == 1;
}

static bool get_int(const cJSON *o, const char *key, int lo, int hi, int *out);

/* The IPv6 side of a network file: absent (IPv4 only), or whole and consistent. */
static bool parse_net6(const cJSON *o, struct drv_net *n)
{
	struct in6_addr pool;
	int prefix;

	if (!cJSON_GetObjectItemCaseSensitive(o, "gateway6"))
		return true;
	if (!get_ip6(o, "gateway6", &n->gw6) || !get_ip6(o, "pool6", &n->pool6) ||
	    !get_int(o, "prefix6", 1, 126, &prefix))
		return false;
	drv_prefix6(&n->gw6, (uint8_t)prefix, &pool);
	n->prefix6 = (uint8_t)prefix;
	n->dual = true;
	return !memcmp(&pool, &n->pool6, sizeof(pool));
}

/* The IPv6 address of an endpoint file: absent, or an address with a prefix length. */
static bool parse_ep6(const cJSON *o, struct drv_ep *e)
{
	int prefix;

	if (!cJSON_GetObjectItemCaseSensitive(o, "address6"))
		return true;
	if (!get_ip6(o, "address6", &e->addr6) || !get_int(o, "prefix6", 1, 128, &prefix))
		return false;
	e->prefix6 = (uint8_t)prefix;
	e->has6 = true;
	return true;
}

/* A published port's family: absent (both), 4 or 6 with host_ip6. */
static bool parse_port_family(const cJSON *p, struct driver_port *dp)
{
	int fam;

	if (!cJSON_GetObjectItemCaseSensitive(p, "family"))
		return true;
	if (!get_int(p, "family", 4, 6, &fam) || fam == 5)
		return false;
	dp->family = fam == 6 ? AF_INET6 : AF_INET;
	return fam == 4 || get_ip6(p, "host_ip6", &dp->host_ip6);
}

static bool get_int(const cJSON *o, const char *key, int lo, int hi, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
	    v->valuedouble != (double)v->valueint)
		return false;
	*out = v->valueint;
	return true;
}

static bool copy_str(const cJSON *o, const char *key, char *dst, size_t max)
{
	const char *s = get_str(o, key, max);

	if (!s)
		return false;
	memcpy(dst, s, strlen(s) + 1);
	return true;
}

static struct drv_net *parse_net(const cJSON *o)
{
	struct drv_net *n = calloc(1, sizeof(*n));
	const cJSON *seq;
	int prefix, ver, tier_id;

	if (!n)
		return NULL;
	if (get_int(o, "version", STATE_VERSION, STATE_VERSION, &ver) &&
	    copy_str(o, "id", n->id, sizeof(n->id)) && driver_id_valid(n->id) &&
	    copy_str(o, "bridge", n->bridge, sizeof(n->bridge)) &&
	    copy_str(o, "tier", n->tier, sizeof(n->tier)) && n->tier[0] &&
	    get_ip(o, "gateway", &n->gw) && driver_ifname_valid(n->bridge) &&
	    get_ip(o, "pool", &n->pool) && get_int(o, "prefix", 0, 30, &prefix) &&
	    get_int(o, "mtu", 0, 65535, &n->mtu) && (n->mtu == 0 || n->mtu >= 68) &&
	    cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "internal")) && parse_net6(o, n)) {
		n->prefix = (uint8_t)prefix;
		n->internal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "internal"));
		seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
		n->seq =
		    cJSON_IsNumber(seq) && seq->valuedouble >= 0 ? (uint64_t)seq->valuedouble : 0;
		/* Files from before tier ids have none: start-up gives them one (driver.c). */
		if (get_int(o, "tier_id", 1, TN_TIER_ID_MAX, &tier_id))
			n->tier_id = (uint16_t)tier_id;
		return n;
	}
	free(n);
	return NULL;
}

/*
 * Exactly "hh:hh:hh:hh:hh:hh", what state_save_ep writes; sscanf would take "-1:+2: 3".  The
 * caller also refuses a multicast MAC, which proto.c never accepts and a veth cannot take.
 */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	if (!s || strlen(s) != 17)
		return false;
	for (i = 0; i < 6; i++) {
		const char *hi = strchr(hex, s[3 * i]), *lo = strchr(hex, s[3 * i + 1]);

		if (!s[3 * i] || !s[3 * i + 1] || !hi || !lo || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
	}
	return true;
}

/* The names and paths an endpoint file may hold: the ones tiernet itself derives. */
static bool ep_names_valid(const struct drv_ep *e)
{
	char host[IFNAMSIZ], peer[IFNAMSIZ];

	driver_veth_names(e->id, host, peer);
	return !strcmp(e->host, host) && !strcmp(e->peer, peer) &&
	       (!e->sandbox[0] || e->sandbox[0] == '/');
}

static bool parse_ports(const cJSON *o, struct drv_ep *e)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "ports"), *p;
	int n = cJSON_GetArraySize(a), i = 0, proto, port, hp;

	if (!cJSON_IsArray(a) || n > DRIVER_PORTS_MAX)
		return false;
	if (!n)
		return true;
	e->ports = calloc((size_t)n, sizeof(*e->ports));
	if (!e->ports)
		return false;
	cJSON_ArrayForEach(p, a)
	{
		struct driver_port *dp = &e->ports[i++];

		if (!get_int(p, "proto", 0, 255, &proto) ||
		    (proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
		    !get_int(p, "port", 1, 65535, &port) ||
		    !get_int(p, "host_port", 1, 65535, &hp) ||
		    !get_ip(p, "host_ip", &dp->host_ip) || !parse_port_family(p, dp))
			return false;
		dp->proto = (uint8_t)proto;
		dp->port = (uint16_t)port;
		dp->host_port = dp->host_port_end = (uint16_t)hp;
	}
	e->nports = (size_t)n;
	return true;
}

static struct drv_ep *parse_ep(const cJSON *o)
{
	struct drv_ep *e = calloc(1, sizeof(*e));
	int prefix, ver;

	if (!e)
		return NULL;
	if (get_int(o, "version", STATE_VERSION, STATE_VERSION, &ver) &&
	    copy_str(o, "id", e->id, sizeof(e->id)) && driver_id_valid(e->id) &&
	    copy_str(o, "network", e->net_id, sizeof(e->net_id)) && driver_id_valid(e->net_id) &&
	    get_ip(o, "address", &e->addr) && get_int(o, "prefix", 0, 32, &prefix) &&
	    parse_mac(get_str(o, "mac", 18), e->mac) && !(e->mac[0] & 1) &&
	    copy_str(o, "host_if", e->host, sizeof(e->host)) &&
	    copy_str(o, "peer_if", e->peer, sizeof(e->peer)) &&
	    copy_str(o, "sandbox", e->sandbox, sizeof(e->sandbox)) && ep_names_valid(e) &&
	    cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "joined")) && parse_ports(o, e) &&
	    parse_ep6(o, e)) {
		e->prefix = (uint8_t)prefix;
		e->joined = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "joined"));
		return e;
	}
	free(e->ports);
	free(e);
	return NULL;
}

static char *read_file_max(const char *path, off_t max, const char **why)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*why = "cannot be read";
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > max) {
		*why = "is not a regular file of the size tiernet writes";
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out;
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
out:
	close(fd);
	return buf;
}

static char *read_file(const char *path, const char **why)
{
	return read_file_max(path, STATE_FILE_MAX, why);
}

static void quarantine(const char *path, const char *why,
		       void (*bad_fn)(const char *path, const char *why))
{
	char aside[DRIVER_PATH_MAX + 320];

	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	rename(path, aside);
	bad_fn(path, why);
}

static void load_one(const char *path, bool is_net, void (*net_fn)(struct drv_net *n),
		     void (*ep_fn)(struct drv_ep *e),
		     void (*bad_fn)(const char *path, const char *why))
{
	const char *why = NULL;
	char *text = read_file(path, &why);
	cJSON *o = text ? cJSON_Parse(text) : NULL;
	struct drv_net *n = NULL;
	struct drv_ep *e = NULL;

	free(text);
	if (text && !o)
		why = "is not valid JSON (truncated or corrupt)";
	if (o && is_net)
		n = parse_net(o);
	else if (o)
		e = parse_ep(o);
	if (o && !n && !e)
		why = "lacks a field or has a field of the wrong type or version";
	cJSON_Delete(o);
	if (n)
		net_fn(n);
	else if (e)
		ep_fn(e);
	else
		quarantine(path, why, bad_fn);
}

static int load_dir(const char *kind, bool is_net, void (*net_fn)(struct drv_net *n),
		    void (*ep_fn)(struct drv_ep *e),
		    void (*bad_fn)(const char *path, const char *why))
{
	char dir[DRIVER_PATH_MAX + 16], path[DRIVER_PATH_MAX + 300];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/%s", state_dir, kind);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		size_t len = strlen(d->d_name);

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (d->d_name[0] == '.' && len > 4 && !strcmp(d->d_name + len - 4, ".tmp")) {
			unlink(path); /* a write that never reached its rename */
			continue;
		}
		if (len < 6 || strcmp(d->d_name + len - 5, ".json"))
			continue;
		load_one(path, is_net, net_fn, ep_fn, bad_fn);
	}
	closedir(dp);
	return 0;
}

/* policy.json's writes that a crash stopped before their rename (see write_atomic). */
static void remove_policy_leftovers(void)
{
	struct dirent *d;
	DIR *dp = opendir(state_dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		size_t len = strlen(d->d_name);

		if (!strncmp(d->d_name, ".policy.", 8) && len > 12 &&
		    !strcmp(d->d_name + len - 4, ".tmp"))
			unlinkat(dirfd(dp), d->d_name, 0);
	}
	closedir(dp);
}

int state_load(void (*net_fn)(struct drv_net *n), void (*ep_fn)(struct drv_ep *e),
	       void (*bad_fn)(const char *path, const char *why))
{
	int r;

	remove_policy_leftovers();
	r = load_dir("networks", true, net_fn, ep_fn, bad_fn);

	if (!r)
		r = load_dir("endpoints", false, net_fn, ep_fn, bad_fn);
	return r;
}

/* ---- policy.json: the policy in force and where it came from (plugin/source.c) ---- */

#define POLICY_STATE_MAX (2 * CONFIG_FILE_MAX + 1024) /* JSON-escaped text and a path */

int state_save_policy(const char *origin, const char *text, struct err *err)
{
	cJSON *o = cJSON_CreateObject();
	char *json;
	int r;

	if (o) {
		cJSON_AddNumberToObject(o, "version", STATE_VERSION);
		cJSON_AddStringToObject(o, "origin", origin);
		cJSON_AddStringToObject(o, "text", text);
	}
	json = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!json)
		return err_set(err, ENOMEM, "tiernet: out of memory saving the policy");
	r = write_atomic(".", "policy", json);
	free(json);
	if (r)
		return err_set(err, -r, "tiernet: cannot save the policy in force in %s: %s",
			       state_dir, strerror(-r));
	return 0;
}

int state_read_policy(const char *dir, char **origin, char **text)
{
	char path[DRIVER_PATH_MAX + 16], *buf;
	const char *why, *o, *t;
	cJSON *j;
	int r = -EINVAL;

	*origin = *text = NULL;
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	buf = read_file_max(path, POLICY_STATE_MAX, &why);
	if (!buf)
		return errno == ENOENT ? -ENOENT : -EIO;
	j = cJSON_Parse(buf);
	free(buf);
	o = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "origin"));
	t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "text"));
	if (o && t && strlen(t) <= CONFIG_FILE_MAX) {
		*origin = strdup(o);
		*text = strdup(t);
		r = *origin && *text ? 0 : -ENOMEM;
		if (r) {
			free(*origin);
			free(*text);
			*origin = *text = NULL;
		}
	}
	cJSON_Delete(j);
	return r;
}
