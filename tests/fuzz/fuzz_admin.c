/*
 * libFuzzer: the admin route /tiernet.Status and the request path, through route_handle
 * (plugin/routes.c) as the server calls it: path plus a NUL-terminated body.
 *
 * driver_status reads the driver's networks and endpoints and the rules in the kernel.  The
 * driver here is the real one (driver/, policy/, config/), started on a temporary state
 * directory that holds three networks and three endpoints; only the kernel layer is stubbed
 * (stub_kernel.c), so no link, rule or table is touched.  What the stubbed "kernel" returns
 * as its rules (xt_read, read back by the reachability matrix) can come from the input too.
 *
 * Input: byte 0 picks the path; with the last choice, the path is the text up to the first
 * newline.  The rest is the body, optionally followed by "\n#DUMP\n" and bytes that describe
 * the rules in the kernel (stub_kernel.c, eight bytes a rule).
 * Paths that change the driver's state (CreateNetwork, Join, ...) are skipped: their bodies
 * have their own harnesses, and a fuzz target must give the same answer to the same input.
 *
 * Run it as root inside `unshare -n` (tests/fuzz/run.sh does): driver_init switches on
 * net.ipv4.ip_forward, which should happen in a throwaway network namespace only.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <unistd.h>

#include "config/config.h"
#include "driver/internal.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/stub_kernel.h"

#define DUMP_SEP "\n#DUMP\n"

static const char *const paths[] = {
	"/tiernet.Status",
	"/Plugin.Activate",
	"/NetworkDriver.GetCapabilities",
	"/NetworkDriver.EndpointOperInfo",
	"/NetworkDriver.DiscoverNew",
	"/NetworkDriver.DiscoverDelete",
	"/NetworkDriver.AllocateNetwork",
	"/NetworkDriver.FreeNetwork",
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static const char *const changing[] = {
	"/NetworkDriver.CreateNetwork",
	"/NetworkDriver.DeleteNetwork",
	"/NetworkDriver.CreateEndpoint",
	"/NetworkDriver.DeleteEndpoint",
	"/NetworkDriver.Join",
	"/NetworkDriver.Leave",
	"/NetworkDriver.ProgramExternalConnectivity",
	"/NetworkDriver.RevokeExternalConnectivity",
};

static const char policy_text[] = "tier front\n"
				  "tier mid isolated\n"
				  "tier back internal\n"
				  "allow world -> front tcp/80, tcp/443\n"
				  "allow front -> mid tcp/8080\n"
				  "allow mid -> mid tcp/7000-7100\n"
				  "allow mid -> back\n"
				  "allow back -> host udp/53\n";

static char root[256];

static void rm_dir(const char *dir)
{
	char path[600];
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			unlink(path);
		}
	closedir(dp);
	rmdir(dir);
}

static void cleanup(void)
{
	char p[300];

	driver_exit();
	fuzz_kernel_free();
	snprintf(p, sizeof(p), "%s/networks", root);
	rm_dir(p);
	snprintf(p, sizeof(p), "%s/endpoints", root);
	rm_dir(p);
	snprintf(p, sizeof(p), "%s/lock", root); /* state_open's lock file */
	unlink(p);
	rmdir(root);
}

static void id_of(char id[DRIVER_ID_LEN + 1], char c, int i)
{
	memset(id, c, DRIVER_ID_LEN);
	id[0] = (char)('0' + i); /* names derive from the first 12 characters */
	id[DRIVER_ID_LEN] = '\0';
}

/* Three networks, one per tier, and an endpoint on each (two of them publish ports). */
static void seed_state(void)
{
	static const char *const tiers[] = { "front", "mid", "back" };
	static struct driver_port ports[2] = {
		{ .proto = IPPROTO_TCP, .port = 80, .host_port = 8080, .host_port_end = 8080 },
		{ .proto = IPPROTO_UDP,
		  .port = 53,
		  .family = AF_INET,
		  .host_ip = 0x0100007f,
		  .host_port = 5353,
		  .host_port_end = 5353 },
	};
	struct err err;
	struct drv_net n;
	struct drv_ep e;
	int i;

	for (i = 0; i < 3; i++) {
		memset(&n, 0, sizeof(n));
		id_of(n.id, 'a', i);
		driver_bridge_name(n.id, n.bridge);
		snprintf(n.tier, sizeof(n.tier), "%s", tiers[i]);
		n.gw = htonl(0x0a4e0001u | (uint32_t)(i + 1) << 8);
		n.pool = htonl(0x0a4e0000u | (uint32_t)(i + 1) << 8);
		n.prefix = 24;
		n.internal = i == 1;
		memset(&e, 0, sizeof(e));
		id_of(e.id, 'e', i);
		memcpy(e.net_id, n.id, sizeof(e.net_id));
		e.addr = htonl(ntohl(n.gw) + 1);
		e.prefix = 24;
		driver_mac_from_ip(e.addr, e.mac);
		driver_veth_names(e.id, e.host, e.peer);
		e.joined = i != 2;
		if (e.joined)
			snprintf(e.sandbox, sizeof(e.sandbox), "/run/docker/netns/fuzz%d", i);
		e.ports = i == 0 ? ports : NULL;
		e.nports = i == 0 ? 2 : 0;
		if (state_save_net(&n, &err) < 0 || state_save_ep(&e, &err) < 0) {
			fprintf(stderr, "fuzz_admin: %s\n", err.msg);
			exit(1);
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config_diags diags = { 0 };
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	struct policy *pol = NULL;
	struct err err;

	(void)argc, (void)argv;
	log_set_level(LOG_LVL_ERROR);
	snprintf(root, sizeof(root), "%s/tiernet-fuzz-admin.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(root) || state_open(root, &err) < 0) {
		perror("fuzz_admin: cannot make the state directory");
		exit(1);
	}
	atexit(cleanup);
	seed_state();
	if (config_parse("fuzz-admin.conf", policy_text, strlen(policy_text), &pol, &diags) < 0) {
		config_diags_print(&diags, stderr);
		exit(1);
	}
	config_diags_free(&diags);
	if (driver_init(root, pol, &err) < 0) {
		fprintf(stderr, "fuzz_admin: driver_init: %s\n", err.msg);
		exit(1);
	}
	return 0;
}

static bool is_changing(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(changing) / sizeof(changing[0]); i++)
		if (!strcmp(path, changing[i]))
			return true;
	return false;
}

static void check_reply(const char *path, const char *body, size_t len,
			const struct route_reply *out)
{
	/* routes.c h_status: JSON when the body says "json":true. */
	bool json = strcmp(path, "/tiernet.Status") || memmem(body, len, "\"json\":true", 11);
	cJSON *o;

	FUZZ_ASSERT(out->body);
	FUZZ_ASSERT(out->status == 200 || out->status == 404 || out->status == 500);
	if (!json)
		return;
	o = cJSON_Parse(out->body);
	FUZZ_ASSERT(o);
	if (cJSON_IsString(cJSON_GetObjectItem(o, "Err"))) {
		const char *msg = cJSON_GetObjectItem(o, "Err")->valuestring;

		FUZZ_ASSERT(!strncmp(msg, "tiernet: ", 9));
		/* routes.c quotes an unknown path with its control characters replaced. */
		FUZZ_ASSERT(fuzz_printable(msg));
	}
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *end = in + size, *sep;
	char path[300], *body;
	struct route_reply out = { 0, NULL };
	size_t sel, n, blen;

	if (!size)
		return 0;
	sel = data[0] % (NPATHS + 1);
	in++;
	if (sel < NPATHS) {
		snprintf(path, sizeof(path), "%s", paths[sel]);
	} else {
		const char *nl = memchr(in, '\n', (size_t)(end - in));

		n = (size_t)((nl ? nl : end) - in);
		snprintf(path, sizeof(path), "%.*s", (int)(n < 256 ? n : 256), in);
		in = nl ? nl + 1 : end;
		if (is_changing(path))
			return 0;
	}
	sep = memmem(in, (size_t)(end - in), DUMP_SEP, strlen(DUMP_SEP));
	blen = (size_t)((sep ? sep : end) - in);
	/* The server hands over the body NUL-terminated (server.c body_append). */
	body = malloc(blen + 1);
	if (!body)
		return 0;
	memcpy(body, in, blen);
	body[blen] = '\0';
	if (sep) {
		fuzz_kernel_rules = (const uint8_t *)sep + strlen(DUMP_SEP);
		fuzz_kernel_rules_len = (size_t)(end - sep) - strlen(DUMP_SEP);
	}
	if (route_handle(path, body, blen, &out) == 0)
		check_reply(path, body, blen, &out);
	fuzz_kernel_rules = NULL;
	free(out.body);
	free(body);
	return 0;
}
