/*
 * `tiernet export kubernetes [--config FILE] [--mode namespaces|labels] [--namespace NS]
 * [--cluster-cidr CIDR]...`: reads the policy file the way `tiernet check` does (the default
 * path, or the embedded default policy when that file does not exist), translates it with
 * k8s_export (policy/k8s.c), prints the manifests on stdout and what NetworkPolicy cannot
 * say on stderr.  No daemon, no root: it runs on a laptop.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin/export.h"
#include "policy/policy.h"

struct export_opts {
	const char *config;
	struct k8s_opts k8s;
	struct k8s_cidr cidrs[K8S_CIDRS_MAX];
};

void export_usage(FILE *f)
{
	fprintf(f,
		"usage: tiernet export kubernetes [--config FILE] [--mode namespaces|labels]\n"
		"                                 [--namespace NS] [--cluster-cidr CIDR]...\n"
		"\n"
		"Prints the policy as Kubernetes NetworkPolicy manifests (YAML, one document per\n"
		"object, ready for `kubectl apply -f -`) for the same reachability on a cluster\n"
		"whose network plugin enforces NetworkPolicy (Calico, Cilium, ...).  What\n"
		"NetworkPolicy cannot say (allow T -> host, publishing ports, ...) is printed on\n"
		"stderr and as a comment at the top of the output.  Reads only the policy file:\n"
		"no daemon, no root.\n"
		"\n"
		"options:\n"
		"  --config FILE        default %s, or the embedded default\n"
		"                       policy when that file does not exist (as `tiernet check`)\n"
		"  --mode namespaces    one namespace per tier, named after it (the default)\n"
		"  --mode labels        one namespace; a pod is in a tier by its label tier=NAME\n"
		"  --namespace NS       namespaces mode: prefix, each tier's namespace is "
		"NS-TIER;\n"
		"                       labels mode: the namespace (default \"default\")\n"
		"  --cluster-cidr CIDR  a range that is not the world: the cluster's pods, "
		"Services\n"
		"                       and nodes; repeat it for each (up to %d)\n"
		"\n"
		"Exit status 0 (warnings included), 2 for a bad option or an invalid policy.\n"
		"\n"
		"examples:\n"
		"  tiernet export kubernetes --config ./tiernet.conf > tiers.yaml\n"
		"  tiernet export kubernetes --cluster-cidr 10.244.0.0/16 --cluster-cidr "
		"10.96.0.0/12 \\\n"
		"      --cluster-cidr 192.168.1.0/24 | kubectl apply -f -\n"
		"  tiernet export kubernetes --mode labels --namespace shop\n",
		CONFIG_DEFAULT_PATH, K8S_CIDRS_MAX);
}

/* s for quoting in a message: control characters, which a terminal would obey, become '?'. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++) {
		buf[i] = s[i];
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			buf[i] = '?';
	}
	buf[i] = '\0';
	return buf;
}

/* Returns 0, 1 for --help, or -EINVAL after saying what is wrong. */
static int parse(int argc, char **argv, struct export_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "cluster-cidr", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256], q[128];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:m:n:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "namespaces")) {
				o->k8s.mode = K8S_NAMESPACES;
			} else if (!strcmp(optarg, "labels")) {
				o->k8s.mode = K8S_LABELS;
			} else {
				fprintf(stderr,
					"tiernet: --mode \"%s\" is not one of namespaces, labels\n",
					shown(optarg, q, sizeof(q)));
				return -EINVAL;
			}
			break;
		case 'n':
			o->k8s.ns = optarg;
			break;
		case 'r':
			if (o->k8s.ncidrs == K8S_CIDRS_MAX) {
				fprintf(stderr,
					"tiernet: --cluster-cidr \"%s\": at most %d ranges; give "
					"wider ones\n",
					shown(optarg, q, sizeof(q)), K8S_CIDRS_MAX);
				return -EINVAL;
			}
			if (k8s_cidr_parse(optarg, &o->cidrs[o->k8s.ncidrs], err, sizeof(err))) {
				fprintf(stderr, "tiernet: %s\n", err);
				return -EINVAL;
			}
			o->k8s.ncidrs++;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL; /* getopt said which option */
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tiernet: unexpected argument \"%s\"\n",
			shown(argv[optind], q, sizeof(q)));
		return -EINVAL;
	}
	return 0;
}

/* Prints each warning line as "tiernet: warning: ...". */
static void print_warnings(const char *text)
{
	size_t n;

	while (*text) {
		n = strcspn(text, "\n");
		fprintf(stderr, "tiernet: warning: %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

static int kubernetes(int argc, char **argv)
{
	struct export_opts o = { 0 };
	struct config_diags diags = { 0 };
	struct k8s_result res;
	struct policy *pol = NULL;
	const char *env = getenv("TIERNET_CONFIG");
	int r, status = 2;

	if (env && env[0])
		o.config = env;
	o.k8s.cidrs = o.cidrs;
	r = parse(argc, argv, &o);
	if (r) {
		export_usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	o.k8s.source = o.config ? o.config : CONFIG_DEFAULT_PATH;
	/* config_load falls back to the embedded policy then; the header should say so. */
	if (!o.config && access(CONFIG_DEFAULT_PATH, F_OK) < 0 && errno == ENOENT)
		o.k8s.source = CONFIG_DEFAULT_PATH " (missing: the embedded default policy)";
	if (config_load(o.config, &pol, &diags) < 0) {
		config_diags_print(&diags, stderr);
		goto out;
	}
	r = k8s_export(pol, &o.k8s, &res);
	if (r < 0) {
		fprintf(stderr, "tiernet: %s\n", res.err);
		goto out;
	}
	print_warnings(res.warnings);
	if (fputs(res.yaml, stdout) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "tiernet: cannot write the manifests: %s\n", strerror(errno));
	} else {
		status = 0;
	}
	k8s_result_free(&res);
out:
	config_diags_free(&diags);
	policy_free(pol);
	return status;
}

int export_main(int argc, char **argv)
{
	char q[128];

	if (argc > 1 && !strcmp(argv[1], "kubernetes"))
		return kubernetes(argc - 1, argv + 1);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		export_usage(stdout);
		return 0;
	}
	if (argc > 1)
		fprintf(stderr,
			"tiernet: cannot export to \"%s\": the only target is kubernetes (for "
			"Swarm, see README \"More than one host\")\n",
			shown(argv[1], q, sizeof(q)));
	else
		fprintf(stderr, "tiernet: export needs a target: tiernet export kubernetes\n");
	export_usage(stderr);
	return 2;
}
