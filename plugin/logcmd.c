/*
 * `tiernet log [--socket PATH] [--follow] [--json] [--since DURATION]`: the denied new
 * connections the daemon keeps (denials.c), newest last, through the admin route
 * /tiernet.Log.  --follow asks again every FOLLOW_MS for what came after the last entry
 * shown; --json prints one JSON object per entry and line (JSON Lines), which a script
 * reads as it comes.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "plugin/plugin.h"
#include "plugin/why.h"
#include "policy/policy.h"

#define FOLLOW_MS 250

struct logopts {
	const char *socket;
	bool follow, json;
	int64_t since_ms; /* 0: everything kept */
};

void logcmd_usage(FILE *f)
{
	fprintf(f,
		"usage: tiernet log [--socket PATH] [--follow] [--json] [--since DURATION]\n"
		"\n"
		"Shows the new connections the policy denied, newest last: time, protocol, source\n"
		"and destination (address:port, tier, container name when the name service knows\n"
		"it, network and endpoint), the reason and the policy line that would allow it.\n"
		"In audit mode (\"audit\" or \"tier NAME audit\" in the policy) the flows it\n"
		"would deny are let through and shown as \"would deny\".  The kernel reports\n"
		"at most %d new denials a second per rule (after a burst of %d); the daemon\n"
		"keeps the last %d.\n"
		"\n"
		"options:\n"
		"  --socket PATH      the daemon's socket, default %s\n"
		"  --follow           keep printing denials as they come (Ctrl-C to stop)\n"
		"  --json             one JSON object per denial and line\n"
		"  --since DURATION   only the last DURATION: 30s, 10m, 2h, 1d (a number alone "
		"is\n"
		"                     seconds)\n"
		"\n"
		"examples:\n"
		"  tiernet log\n"
		"  tiernet log --since 10m\n"
		"  tiernet log --follow --json | jq -r '.fix'\n",
		POLICY_NFLOG_RATE, POLICY_NFLOG_BURST, DENIALS_MAX, PLUGIN_SOCKET_DEFAULT);
}

/* "30s", "10m", "2h", "1d" or seconds alone, at most ten years, into milliseconds. */
static int parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = { { 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 } };
	unsigned long long v;
	char *end;
	size_t i;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno || v > 3650ULL * 86400)
		return -EINVAL;
	if (!*end) {
		*ms = (int64_t)v * 1000;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (end[0] == units[i].unit && !end[1] && v <= 3650ULL * 86400000 / units[i].ms) {
			*ms = (int64_t)v * units[i].ms;
			return 0;
		}
	return -EINVAL;
}

/* Returns 0, 1 for --help, or -EINVAL (with a sentence on stderr). */
static int parse_opts(int argc, char **argv, struct logopts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t dur;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'f':
			o->follow = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'S':
			if (parse_duration(optarg, &dur) < 0) {
				fprintf(stderr,
					"tiernet: --since \"%s\" is not a duration: write a number "
					"with s, m, h or d, e.g. --since 10m\n",
					optarg);
				return -EINVAL;
			}
			o->since_ms = clock_wall_ms() - dur;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tiernet: log takes no argument \"%s\"; see tiernet log --help\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "";
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "10.97.1.2:40000 front (container web, network 0123456789ab, endpoint 456789abcdef)" */
static void print_end(const cJSON *e, const char *proto)
{
	const char *addr = str(e, "addr"), *net = str(e, "network"), *ep = str(e, "endpoint");
	const char *name = str(e, "container");
	bool ports = !strcmp(proto, "tcp") || !strcmp(proto, "udp");

	if (ports)
		printf(strchr(addr, ':') ? "[%s]:%.0f" : "%s:%.0f", addr, num(e, "port"));
	else
		printf("%s", addr);
	printf(" %s", str(e, "tier"));
	if (net[0])
		printf(" (%s%s%snetwork %s%s%s)", name[0] ? "container " : "", name,
		       name[0] ? ", " : "", net, ep[0] ? ", endpoint " : "", ep);
}

static void print_entry(const cJSON *e, bool json)
{
	char *s;

	if (json) {
		s = cJSON_PrintUnformatted(e);
		if (s)
			printf("%s\n", s);
		free(s);
		return;
	}
	printf("%s %s %s ", str(e, "time"),
	       cJSON_IsTrue(cJSON_GetObjectItem(e, "audit")) ? "WOULD DENY (audit, let through)"
							     : "DENIED",
	       str(e, "proto"));
	print_end(cJSON_GetObjectItem(e, "src"), str(e, "proto"));
	printf(" -> ");
	print_end(cJSON_GetObjectItem(e, "dst"), str(e, "proto"));
	printf(": %s", str(e, "why"));
	if (str(e, "fix")[0])
		printf("; to allow it: %s", str(e, "fix"));
	printf("\n");
}

/* What the daemon says besides the entries, before them, on stderr (stdout stays data). */
static void print_header(const cJSON *r)
{
	const char *audit = str(r, "audit");

	if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "listening")))
		fprintf(stderr, "tiernet: the daemon is not reading the kernel's denials (see its "
				"log for why): this log stays empty\n");
	if (audit[0])
		fprintf(stderr,
			"tiernet: AUDIT MODE (%s%s): flows the policy would deny are LET THROUGH "
			"and shown as \"would deny\"\n",
			strcmp(audit, "all") ? "tiers " : "the whole policy",
			strcmp(audit, "all") ? audit : "");
}

/* One request; prints its entries and advances *after.  Returns 0 or -EIO. */
static int fetch(const struct logopts *o, uint64_t *after, bool header)
{
	cJSON *r, *e;
	char body[128], *text = NULL;
	struct err err;

	snprintf(body, sizeof(body), "{\"after\":%llu,\"since\":%lld}", (unsigned long long)*after,
		 (long long)o->since_ms);
	if (client_call(o->socket, "/tiernet.Log", body, &text, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -EIO;
	}
	r = cJSON_Parse(text);
	free(text);
	if (!r || !cJSON_IsArray(cJSON_GetObjectItem(r, "entries"))) {
		fprintf(stderr, "tiernet: the daemon's answer has no \"entries\": %s\n",
			r ? str(r, "Err") : "not JSON");
		cJSON_Delete(r);
		return -EIO;
	}
	if (header)
		print_header(r);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "entries"))
	{
		print_entry(e, o->json);
		if (num(e, "seq") > (double)*after)
			*after = (uint64_t)num(e, "seq");
	}
	fflush(stdout);
	cJSON_Delete(r);
	return 0;
}

int logcmd_main(int argc, char **argv)
{
	struct logopts o = { .socket = PLUGIN_SOCKET_DEFAULT };
	const struct timespec pause = { .tv_nsec = FOLLOW_MS * 1000000L };
	uint64_t after = 0;
	int r = parse_opts(argc, argv, &o);

	if (r) {
		logcmd_usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	if (fetch(&o, &after, true) < 0)
		return 2;
	while (o.follow) {
		nanosleep(&pause, NULL);
		if (fetch(&o, &after, false) < 0)
			return 2;
	}
	return 0;
}
