/*
 * libFuzzer: the state loader (driver/state.c).  The input, less its first byte, becomes one
 * file of a temporary state directory, in networks/ when the first byte is even, endpoints/
 * when odd; state_load reads it with callbacks that keep what loads.  Whatever loads is then
 * saved again and re-loaded, and must come back identical (save and load agree).  Only files
 * are touched: a directory under /dev/shm (or $TMPDIR), removed at exit.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "driver/internal.h"
#include "tests/fuzz/fuzz.h"

static char root[256];
static struct drv_net *nets;
static struct drv_ep *eps;
static size_t nbad;

static void on_net(struct drv_net *n)
{
	n->next = nets;
	nets = n;
}

static void on_ep(struct drv_ep *e)
{
	e->next = eps;
	eps = e;
}

static void on_bad(const char *path, const char *why)
{
	(void)path;
	FUZZ_ASSERT(why && *why);
	nbad++;
}

static void empty_dir(const char *kind)
{
	char dir[300], path[600];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/%s", root, kind);
	dp = opendir(dir);
	if (!dp)
		return;
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.' || (d->d_name[1] && strcmp(d->d_name, ".."))) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			unlink(path);
		}
	closedir(dp);
}

static void cleanup(void)
{
	char p[300];

	empty_dir("networks");
	empty_dir("endpoints");
	snprintf(p, sizeof(p), "%s/networks", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/endpoints", root);
	rmdir(p);
	rmdir(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err err;
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

	(void)argc, (void)argv;
	snprintf(root, sizeof(root), "%s/tiernet-fuzz-state.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(root) || state_open(root, &err) < 0) {
		perror("fuzz_state: cannot make the state directory");
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

static void free_all(void)
{
	while (nets) {
		struct drv_net *n = nets;

		nets = n->next;
		free(n);
	}
	while (eps) {
		struct drv_ep *e = eps;

		eps = e->next;
		free(e->ports);
		free(e);
	}
}

static bool net_equal(const struct drv_net *a, const struct drv_net *b)
{
	return !strcmp(a->id, b->id) && !strcmp(a->bridge, b->bridge) &&
	       !strcmp(a->tier, b->tier) && a->gw == b->gw && a->pool == b->pool &&
	       a->prefix == b->prefix && a->mtu == b->mtu && a->internal == b->internal;
}

static bool ep_equal(const struct drv_ep *a, const struct drv_ep *b)
{
	size_t i;

	if (strcmp(a->id, b->id) || strcmp(a->net_id, b->net_id) || a->addr != b->addr ||
	    a->prefix != b->prefix || memcmp(a->mac, b->mac, 6) || strcmp(a->host, b->host) ||
	    strcmp(a->peer, b->peer) || strcmp(a->sandbox, b->sandbox) || a->joined != b->joined ||
	    a->nports != b->nports)
		return false;
	for (i = 0; i < a->nports; i++)
		if (a->ports[i].proto != b->ports[i].proto ||
		    a->ports[i].port != b->ports[i].port ||
		    a->ports[i].host_ip != b->ports[i].host_ip ||
		    a->ports[i].host_port != b->ports[i].host_port ||
		    a->ports[i].host_port_end != b->ports[i].host_port_end)
			return false;
	return true;
}

/*
 * What the rest of the driver assumes of a loaded object: only names tiernet derives (a
 * bridge or veth name that is not tiernet's would be deleted as if it were; the fix in
 * driver/state.c, README "Hardening"), an absolute sandbox path, a unicast MAC, tcp or udp
 * ports.
 */
static void check_semantics(void)
{
	size_t i;

	if (nets) {
		FUZZ_ASSERT(driver_ifname_valid(nets->bridge));
		FUZZ_ASSERT(nets->tier[0] != '\0');
		FUZZ_ASSERT(nets->prefix <= 30);
	}
	if (eps) {
		FUZZ_ASSERT(driver_ifname_valid(eps->host) && driver_ifname_valid(eps->peer));
		FUZZ_ASSERT(eps->prefix <= 32 && !(eps->mac[0] & 1));
		FUZZ_ASSERT(!eps->sandbox[0] || eps->sandbox[0] == '/');
		for (i = 0; i < eps->nports; i++)
			FUZZ_ASSERT(eps->ports[i].proto == 6 || eps->ports[i].proto == 17);
	}
}

/* What loaded once is saved and loaded again: it must come back the same. */
static void round_trip(void)
{
	struct drv_net *n1 = nets;
	struct drv_ep *e1 = eps;
	struct err err;

	nets = NULL;
	eps = NULL;
	if (n1)
		FUZZ_ASSERT(state_save_net(n1, &err) == 0);
	if (e1)
		FUZZ_ASSERT(state_save_ep(e1, &err) == 0);
	FUZZ_ASSERT(state_load(on_net, on_ep, on_bad) == 0);
	FUZZ_ASSERT(!n1 == !nets && !e1 == !eps && nbad == 0);
	FUZZ_ASSERT(!n1 || net_equal(n1, nets));
	FUZZ_ASSERT(!e1 || ep_equal(e1, eps));
	free_all();
	nets = n1;
	eps = e1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[300];
	int fd;

	if (!size)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/fuzz.json", root,
		 data[0] & 1 ? "endpoints" : "networks");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
	close(fd);
	nbad = 0;
	FUZZ_ASSERT(state_load(on_net, on_ep, on_bad) == 0);
	/* One file: it loads as one object or is reported (and moved aside) once. */
	FUZZ_ASSERT((nets != NULL) + (eps != NULL) + nbad == 1);
	FUZZ_ASSERT(!nets || !nets->next);
	FUZZ_ASSERT(!eps || !eps->next);
	FUZZ_ASSERT(!nets || driver_id_valid(nets->id));
	FUZZ_ASSERT(!eps || (driver_id_valid(eps->id) && driver_id_valid(eps->net_id)));
	FUZZ_ASSERT(!eps || eps->nports <= DRIVER_PORTS_MAX);
	check_semantics();
	empty_dir("networks");
	empty_dir("endpoints");
	if (nets || eps)
		round_trip();
	empty_dir("networks");
	empty_dir("endpoints");
	free_all();
	return 0;
}
