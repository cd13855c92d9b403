/*
 * `tiernet explain`, `tiernet graph` and `tiernet check --diff`: ask the running daemon
 * (client.c) and print its answer for people, or as JSON for scripts.  Exit statuses are
 * for scripts too: explain 0 allowed, 1 denied; check --diff 0 no change, 1 changes; 2 is
 * always a usage error or a daemon that cannot answer, with one sentence on stderr.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "plugin/plugin.h"
#include "plugin/why.h"
#include "policy/policy.h"
#include "policy/why.h"

struct why_opts {
	const char *socket, *format, *diff;
	bool json;
};

/* Options common to the three; returns 0, 1 for --help, or -EINVAL (message printed). */
static int parse_opts(int argc, char **argv, struct why_opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "diff", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	/* GNU getopt permutes: options may follow FROM and TO, the operands end up last. */
	while ((c = getopt_long(argc, argv, "s:f:D:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'D':
			o->diff = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* Calls the daemon; on failure prints the sentence and returns -errno. */
static int call(const struct why_opts *o, const char *path, cJSON *req, char **reply)
{
	struct err err;
	char *body = cJSON_PrintUnformatted(req);
	int r;

	if (!body) {
		fprintf(stderr, "tiernet: out of memory\n");
		return -ENOMEM;
	}
	r = client_call(o->socket, path, body, reply, &err);
	free(body);
	if (r)
		fprintf(stderr, "%s\n", err.msg);
	return r;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));

	return v ? v : "";
}

/* "10.99.1.2 (tier front, network 0123456789ab, endpoint 0123456789ab)" or "front". */
static void print_end(const cJSON *e)
{
	const char *given = jstr(e, "given"), *tier = jstr(e, "tier");

	if (!strcmp(given, tier)) {
		fputs(given, stdout);
		return;
	}
	printf("%s (%s", given, strcmp(tier, "host") ? "tier " : "");
	printf("%s", tier);
	if (cJSON_GetObjectItem(e, "endpoint"))
		printf(", network %.12s, endpoint %.12s", jstr(e, "network"), jstr(e, "endpoint"));
	else if (cJSON_GetObjectItem(e, "gateway_of"))
		printf(": the gateway of network %.12s", jstr(e, "gateway_of"));
	if (cJSON_IsTrue(cJSON_GetObjectItem(e, "docker_internal")))
		printf(", Docker --internal");
	printf(")");
}

static void print_explain(const cJSON *a)
{
	bool allowed = !strcmp(jstr(a, "verdict"), "allowed");

	print_end(cJSON_GetObjectItem(a, "from"));
	printf(" -> ");
	print_end(cJSON_GetObjectItem(a, "to"));
	if (cJSON_GetObjectItem(a, "port"))
		printf(" %s/%d", jstr(a, "proto"),
		       (int)cJSON_GetNumberValue(cJSON_GetObjectItem(a, "port")));
	else
		printf(" (any port)");
	printf(": %s", allowed ? "allowed" : "denied");
	if (!allowed)
		printf(" (%s)", jstr(a, "reason"));
	printf("\n");
	if (cJSON_GetObjectItem(a, "line"))
		printf("  line: %s\n", jstr(a, "line"));
	printf("  why:  %s\n", jstr(a, "why"));
	if (cJSON_GetObjectItem(a, "fix_replaces"))
		printf("  fix:  change %s to: %s\n", jstr(a, "fix_replaces"), jstr(a, "fix"));
	else if (cJSON_GetObjectItem(a, "fix_adds_to"))
		printf("  fix:  add to %s: %s\n", jstr(a, "fix_adds_to"), jstr(a, "fix"));
	if (cJSON_IsTrue(cJSON_GetObjectItem(a, "differs")))
		printf("  NOTE: the policy declares %s, but the rules in the kernel make it %s: "
		       "what is enforced differs from what is declared (tiernet re-applies its "
		       "rules every 2 s; `tiernet status` shows them)\n",
		       jstr(a, "declared"), jstr(a, "enforced"));
	else if (!strncmp(jstr(a, "enforced"), "no rules", 8))
		printf("  note: nothing is enforced yet (a tier has no live %snetwork); this is "
		       "what the policy declares\n",
		       !strcmp(jstr(a, "family"), "ipv6") ? "dual-stack " : "");
}

void explain_usage(FILE *f)
{
	fprintf(f,
		"usage: tiernet explain [--socket PATH] [--json] FROM TO [PROTO/PORT]\n"
		"\n"
		"Asks the running daemon whether FROM may open a connection to TO, and why.\n"
		"FROM and TO are tier names, world, host, or the IPv4 or IPv6 address of an\n"
		"endpoint (its network and endpoint are named) or of a network's gateway (the\n"
		"host).  PROTO/PORT is tcp/PORT or udp/PORT; without it, any port.  The verdict "
		"is\n"
		"what the rules read back from the kernel enforce; the answer shows the policy "
		"line\n"
		"that decides it (file:line), and for a denial the reason (no-edge, port, "
		"isolated,\n"
		"internal, docker-internal, publish-gate, not-published) and the line that would\n"
		"allow it.  It says so when what is enforced differs from what is declared.\n"
		"\n"
		"exit status: 0 allowed, 1 denied, 2 usage error, unknown tier or address, or no "
		"daemon\n"
		"\n"
		"options:\n"
		"  --socket PATH  the daemon's socket, default %s\n"
		"  --json         machine-readable answer\n"
		"\n"
		"examples:\n"
		"  tiernet explain front mid tcp/8080\n"
		"  tiernet explain 10.30.1.2 10.30.3.2 tcp/5432\n"
		"  tiernet explain world front tcp/80 --json\n",
		PLUGIN_SOCKET_DEFAULT);
}

int explain_main(int argc, char **argv)
{
	struct why_opts o = { .socket = PLUGIN_SOCKET_DEFAULT };
	char err[256], *reply = NULL;
	const char *pos[3];
	int i, n = 0, r = parse_opts(argc, argv, &o), status = 2;
	cJSON *req, *a;
	uint8_t proto;
	uint16_t port;

	for (i = optind; r == 0 && i < argc; i++) {
		if (n < 3) {
			pos[n++] = argv[i];
		} else {
			fprintf(stderr, "tiernet: unexpected argument \"%s\"\n", argv[i]);
			r = -EINVAL;
		}
	}
	if (r || n < 2) {
		if (!r)
			fprintf(stderr, "tiernet: explain needs FROM and TO\n");
		explain_usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	if (n == 3 && why_port_parse(pos[2], &proto, &port, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	req = cJSON_CreateObject();
	if (req && cJSON_AddStringToObject(req, "from", pos[0]) &&
	    cJSON_AddStringToObject(req, "to", pos[1]) &&
	    (n < 3 || cJSON_AddStringToObject(req, "port", pos[2])) &&
	    !call(&o, "/tiernet.Explain", req, &reply)) {
		a = cJSON_Parse(reply);
		if (a) {
			status = strcmp(jstr(a, "verdict"), "allowed") ? 1 : 0;
			if (o.json)
				printf("%s\n", reply);
			else
				print_explain(a);
		} else {
			fprintf(stderr, "tiernet: the daemon's answer is not JSON\n");
		}
		cJSON_Delete(a);
	}
	cJSON_Delete(req);
	free(reply);
	return status;
}

void graph_usage(FILE *f)
{
	fprintf(f,
		"usage: tiernet graph [--socket PATH] [--format dot|mermaid]\n"
		"\n"
		"Prints the tier graph of the running daemon: the tiers (internal and isolated\n"
		"marked, with their live networks and endpoints), world and host, and an edge for\n"
		"every pair that may open connections, with its ports and policy line.  An edge\n"
		"where what the kernel enforces differs from what the policy declares is red and\n"
		"marked \"enforced != declared\".  DOT (the default) is for Graphviz; Mermaid\n"
		"pastes into a Markdown file.\n"
		"\n"
		"options:\n"
		"  --socket PATH    the daemon's socket, default %s\n"
		"  --format FORMAT  dot (default) or mermaid\n"
		"\n"
		"examples:\n"
		"  tiernet graph | dot -Tsvg > tiers.svg\n"
		"  tiernet graph --format mermaid\n",
		PLUGIN_SOCKET_DEFAULT);
}

int graph_main(int argc, char **argv)
{
	struct why_opts o = { .socket = PLUGIN_SOCKET_DEFAULT, .format = "dot" };
	char *reply = NULL;
	int r = parse_opts(argc, argv, &o), status = 2;
	cJSON *req, *a;

	if (!r && optind < argc) {
		fprintf(stderr, "tiernet: unexpected argument \"%s\"\n", argv[optind]);
		r = -EINVAL;
	}
	if (r) {
		graph_usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	if (strcmp(o.format, "dot") && strcmp(o.format, "mermaid")) {
		fprintf(stderr, "tiernet: --format \"%s\" is not one of dot, mermaid\n", o.format);
		return 2;
	}
	req = cJSON_CreateObject();
	if (req && cJSON_AddStringToObject(req, "format", o.format) &&
	    !call(&o, "/tiernet.Graph", req, &reply)) {
		a = cJSON_Parse(reply);
		if (cJSON_GetStringValue(cJSON_GetObjectItem(a, "graph"))) {
			fputs(jstr(a, "graph"), stdout);
			status = 0;
		} else {
			fprintf(stderr, "tiernet: the daemon's answer has no graph\n");
		}
		cJSON_Delete(a);
	}
	cJSON_Delete(req);
	free(reply);
	return status;
}

static void print_diff(const cJSON *a, const char *file)
{
	const cJSON *c, *changes = cJSON_GetObjectItem(a, "changes");
	int n = cJSON_GetArraySize(changes);

	cJSON_ArrayForEach(c, changes)
	    printf("  %-28s %-8s %s\n", jstr(c, "pair"),
		   !strcmp(jstr(c, "change"), "allowed") ? "allowed" : "DENIED", jstr(c, "ports"));
	if (!n)
		printf("no change: %s allows exactly what the running policy allows\n", file);
	else
		printf("%d change%s: pairs and ports %s would allow or deny, unlike the running "
		       "policy; `systemctl reload tiernet` (SIGHUP) applies it\n",
		       n, n == 1 ? "" : "s", file);
}

/* `tiernet check [--socket PATH] [--json] --diff FILE` */
int diff_main(int argc, char **argv)
{
	struct why_opts o = { .socket = PLUGIN_SOCKET_DEFAULT };
	struct config_diags diags = { 0 };
	struct policy *pol = NULL;
	char *text = NULL, *reply = NULL;
	size_t len = 0;
	int r = parse_opts(argc, argv, &o), status = 2;
	cJSON *req = NULL, *a;

	if (!r && optind < argc) {
		fprintf(stderr, "tiernet: unexpected argument \"%s\"\n", argv[optind]);
		r = -EINVAL;
	}
	if (r || !o.diff) {
		fprintf(r > 0 ? stdout : stderr,
			"usage: tiernet check [--socket PATH] [--json] --diff FILE\n");
		return r > 0 ? 0 : 2;
	}
	/* The file's own mistakes are shown here, with carets, before the daemon is asked. */
	if (config_read(o.diff, &text, &len, &diags) < 0 ||
	    config_parse(o.diff, text, len, &pol, &diags) < 0) {
		config_diags_print(&diags, stderr);
		goto out;
	}
	req = cJSON_CreateObject();
	if (req && cJSON_AddStringToObject(req, "name", o.diff) &&
	    cJSON_AddStringToObject(req, "text", text) && !call(&o, "/tiernet.Diff", req, &reply)) {
		a = cJSON_Parse(reply);
		if (a) {
			status = cJSON_GetArraySize(cJSON_GetObjectItem(a, "changes")) ? 1 : 0;
			if (o.json)
				printf("%s\n", reply);
			else
				print_diff(a, o.diff);
		}
		cJSON_Delete(a);
	}
out:
	cJSON_Delete(req);
	policy_free(pol);
	config_diags_free(&diags);
	free(text);
	free(reply);
	return status;
}
