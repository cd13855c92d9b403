/*
 * tiernet: commands, start-up, signals and shutdown.  The serving loop is libmicrohttpd's;
 * this thread only waits for signals: SIGHUP re-reads the policy, SIGTERM/SIGINT stop
 * serving and leave every bridge, veth and rule in place so containers keep working.
 * Before the server's threads start, the daemon gives up every capability but CAP_NET_ADMIN
 * and CAP_NET_RAW (caps.c).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "dns/dns.h"
#include "lib/log.h"
#include "plugin/export.h"
#include "plugin/plugin.h"
#include "plugin/why.h"
#include "policy/policy.h"

struct serve_opts {
	const char *socket, *config, *state_dir;
	bool serve; /* the options below are serve's */
	struct dns_opts dns;
};

/* Loads the policy (source.c says from where); logs every problem. */
static struct policy *load_policy(const struct serve_opts *o, bool start, struct source *src)
{
	struct config_diags diags = { 0 };
	struct policy *pol = NULL;
	size_t i;

	if (source_load(o->config, o->state_dir, start, &pol, src, &diags) < 0) {
		for (i = 0; i < diags.n; i++) {
			char *s = config_diag_format(&diags.v[i]);

			log_error("%s", s ? s : diags.v[i].message);
			free(s);
		}
		pol = NULL;
	}
	config_diags_free(&diags);
	return pol;
}

/* Keeps a copy of the policy now in force; a failure costs only that copy. */
static void keep_policy(const struct source *src)
{
	struct err err;

	if (src->kept)
		log_error("the policy file %s was in force and is gone: tiernet uses the copy kept "
			  "in its state directory; restore the file",
			  CONFIG_DEFAULT_PATH);
	else if (source_keep(src, &err) < 0)
		log_warnx("%s", err.msg);
}

static void reload(const struct serve_opts *o)
{
	struct source src;
	struct err err;
	struct policy *pol;
	int r;

	log_info("SIGHUP: re-reading the policy %s", o->config ? o->config : CONFIG_DEFAULT_PATH);
	pol = load_policy(o, false, &src);
	if (!pol) {
		log_error("the new policy is invalid; the old policy stays in force");
		return;
	}
	r = driver_set_policy(pol, &err);
	if (r == -ENOTRECOVERABLE) {
		log_error("%s", err.msg);
		policy_free(pol);
		source_free(&src);
		return;
	}
	if (r < 0) {
		log_error("%s; the old policy stays in force", err.msg);
		policy_free(pol);
		source_free(&src);
		return;
	}
	keep_policy(&src);
	source_free(&src);
	log_info("new policy applied");
}

/*
 * A connection is a descriptor: the soft limit (often 1024) would refuse connections long
 * before conns.c's bound makes room, so take what the hard limit allows, up to 65536.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the open-file limit to %llu",
			 (unsigned long long)rl.rlim_cur);
}

/*
 * Never runs (the signals are blocked in every thread and taken by sigtimedwait), but a
 * handler must exist: as PID 1 of a PID namespace (a managed plugin) the kernel discards a
 * signal whose disposition is SIG_DFL, and `docker plugin disable` would wait out its timeout.
 */
static void on_signal(int sig)
{
	(void)sig;
}

/*
 * glibc gives every thread that allocates an arena of its own and keeps freed memory in it
 * for reuse; each connection has its thread here, so a firewall change's buffers (a compiled
 * rule set, libiptc's copy of a table: hundreds of kB with 1,000 published ports) stayed
 * behind in several arenas.  Calls are serialised by the driver's lock anyway, so one arena
 * costs no parallelism.  (Fixed mmap and trim thresholds at 64 kB saved 0.8 MB more, but made
 * a ProgramExternalConnectivity with 1,000 ports 3 ms slower: page faults on fresh memory.)
 * Must run before any thread starts.
 */
static void malloc_setup(void)
{
	mallopt(M_ARENA_MAX, 1);
}

static int serve(const struct serve_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct source src;
	struct err err;
	struct policy *pol;
	/* How often Docker's chains are checked for the pass-through (dockerd restarts). */
	const struct timespec tick = { .tv_sec = 2 };
	sigset_t set;
	int sig;

	/* Threads started from here on inherit the mask, so only this thread sees signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	malloc_setup();

	pol = load_policy(o, true, &src);
	if (!pol)
		fatalx("cannot start: fix the policy file and try again");
	/*
	 * With dockerd's socket there, the first firewall sync keeps the redirection of DNS
	 * queries in place: a restart interrupts names across tiers only while the resolver
	 * is not yet listening.
	 */
	if (o->dns.on && !access(o->dns.socket, F_OK))
		driver_set_dns_port(o->dns.port, &err);
	if (driver_init(o->state_dir, pol, &err) < 0) {
		driver_exit();
		policy_free(pol);
		source_free(&src);
		fatalx("cannot start: %s", err.msg);
	}
	keep_policy(&src);
	source_free(&src);
	/*
	 * Capabilities are per thread and inherited by new threads: drop them before
	 * server_start() starts libmicrohttpd's.  Binding the socket needs none (root owns
	 * its directory).
	 */
	if (caps_drop() < 0)
		fatalx("cannot start: cannot give up the capabilities tiernet does not need");
	raise_fd_limit();
	if (dns_start(&o->dns) < 0) {
		if (driver_set_dns_port(0, &err) < 0)
			log_warnx("%s", err.msg);
		log_error("names across tiers are off: the resolver did not start (above)");
	}
	/* after caps_drop: its thread inherits only the two capabilities kept */
	denylog_start();
	if (server_start(o->socket) < 0)
		fatalx("cannot start: the socket %s is not served", o->socket);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig < 0) {
			driver_tick();
			/*
			 * The tick lists every link (a libnl cache: megabytes with 1,000
			 * endpoints); what it and the calls since freed goes back to the kernel
			 * here, on no caller's time.
			 */
			malloc_trim(0);
			continue;
		}
		if (sig == SIGHUP) {
			reload(o);
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_info("%s: stopping; bridges, veths and rules stay in place", strsignal(sig));
	server_stop();
	dns_stop();
	denylog_stop();
	driver_exit();
	return 0;
}

/* ---- help texts: usage, options, examples ---- */

static void usage_serve(FILE *f)
{
	fprintf(f,
		"usage: tiernet serve [--socket PATH] [--config FILE] [--state-dir DIR] "
		"[--log-level LEVEL]\n"
		"                     [--names on|off] [--docker-socket PATH] [--names-port N]\n"
		"\n"
		"Runs the Docker network plugin daemon in the foreground, logging one line per\n"
		"event on stderr.  SIGHUP re-reads the policy; SIGTERM/SIGINT stop serving and\n"
		"leave bridges, veths and rules in place, so running containers keep working.\n"
		"After start-up the daemon keeps only CAP_NET_ADMIN and CAP_NET_RAW.\n"
		"\n"
		"options:\n"
		"  --socket PATH     default %s; the Docker driver name is its\n"
		"                    base name without .sock\n"
		"  --config FILE     default %s; when that file is missing the\n"
		"                    embedded default policy is used (an explicit FILE must "
		"exist)\n"
		"  --state-dir DIR   default %s\n"
		"  --log-level LEVEL error, warn, info (default) or debug\n"
		"  --names on|off    names across tiers (default on): containers resolve "
		"NAME.TIER\n"
		"                    and NAME on the tiers the policy lets them reach\n"
		"  --docker-socket PATH\n"
		"                    default %s; read with GET only (names of\n"
		"                    containers); when absent, names are off until it appears\n"
		"  --names-port N    the resolver's UDP port, default %u\n"
		"\n"
		"environment (the options win):\n"
		"  TIERNET_CONFIG    like --config\n"
		"  TIERNET_LOG_LEVEL like --log-level\n"
		"  TIERNET_NAMES     like --names\n"
		"\n"
		"examples:\n"
		"  tiernet serve\n"
		"  tiernet serve --config /etc/tiernet/tiernet.conf --log-level debug\n"
		"  docker network create -d tiernet -o tier=front --subnet 10.30.1.0/24 front\n",
		PLUGIN_SOCKET_DEFAULT, CONFIG_DEFAULT_PATH, PLUGIN_STATE_DEFAULT, DNS_DOCKER_SOCKET,
		DNS_PORT_DEFAULT);
}

static void usage_check(FILE *f)
{
	fprintf(f,
		"usage: tiernet check [--config FILE] [--state-dir DIR]\n"
		"       tiernet check --print-default\n"
		"       tiernet check [--socket PATH] [--json] --diff FILE\n"
		"\n"
		"Parses a policy file as a running `tiernet serve` would on SIGHUP and prints\n"
		"\"configuration OK\" (exit 0) or every error as file:line:column with the line\n"
		"and a caret (exit 1).  Without --config it checks %s,\n"
		"or the embedded default policy when that file does not exist and has never been\n"
		"in force (the state directory, default %s, remembers; once it\n"
		"has been, its absence is an error).  --print-default prints the embedded\n"
		"default policy, a starting point for your own.\n"
		"\n"
		"--diff FILE asks the running daemon (on --socket, default %s)\n"
		"what FILE would change against the policy in force, before a reload: each\n"
		"ordered pair of tiers (world, host) and the ports that go from denied to allowed\n"
		"or back.  Exit status 0 no change, 1 changes, 2 an invalid FILE or no daemon.\n"
		"\n"
		"examples:\n"
		"  tiernet check\n"
		"  tiernet check --config ./tiernet.conf && systemctl reload tiernet\n"
		"  tiernet check --print-default > ./tiernet.conf\n"
		"  tiernet check --diff ./tiernet.conf\n",
		CONFIG_DEFAULT_PATH, PLUGIN_STATE_DEFAULT, PLUGIN_SOCKET_DEFAULT);
}

static void usage_status(FILE *f)
{
	fprintf(f,
		"usage: tiernet status [--socket PATH] [--json]\n"
		"\n"
		"Asks the running daemon over its socket for tiers, networks, bridges, endpoints,\n"
		"published ports and the reachability matrix as the kernel enforces it.\n"
		"\n"
		"options:\n"
		"  --socket PATH  the daemon's socket, default %s\n"
		"  --json         machine-readable output\n"
		"\n"
		"examples:\n"
		"  tiernet status\n"
		"  tiernet status --json\n"
		"  # the managed plugin's socket lives under its plugin ID:\n"
		"  tiernet status --socket /run/docker/plugins/$(docker plugin inspect -f "
		"'{{.Id}}' "
		"tiernet:latest)/tiernet.sock\n",
		PLUGIN_SOCKET_DEFAULT);
}

static void usage_version(FILE *f)
{
	fprintf(f, "usage: tiernet version\n\nPrints the version tiernet was built from.\n");
}

static void usage_help(FILE *f)
{
	fprintf(f, "usage: tiernet help [COMMAND]\n\nShows the commands, or one command's help.\n");
}

/*
 * Defaults from the environment (a managed plugin's `env` settings, a unit's Environment=);
 * options given on the command line override them.  Returns 0 or -EINVAL.
 */
static int env_defaults(struct serve_opts *o)
{
	const char *v = getenv("TIERNET_CONFIG");
	int lvl;

	if (v && v[0])
		o->config = v;
	v = getenv("TIERNET_NAMES");
	if (o->serve && v && v[0]) {
		if (strcmp(v, "on") && strcmp(v, "off")) {
			fprintf(stderr, "tiernet: TIERNET_NAMES \"%s\" is neither on nor off\n", v);
			return -EINVAL;
		}
		o->dns.on = !strcmp(v, "on");
	}
	v = getenv("TIERNET_LOG_LEVEL");
	if (v && v[0]) {
		lvl = log_parse_level(v);
		if (lvl < 0) {
			fprintf(stderr,
				"tiernet: TIERNET_LOG_LEVEL \"%s\" is not one of error, "
				"warn, info, debug\n",
				v);
			return -EINVAL;
		}
		log_set_level((enum log_level)lvl);
	}
	return 0;
}

/* serve's --names on|off, --docker-socket PATH and --names-port N. */
static int parse_names(int c, const char *arg, struct dns_opts *d)
{
	char *end;
	unsigned long v;

	if (c == 'D') {
		if (arg[0] != '/' || strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			fprintf(stderr,
				"tiernet: --docker-socket \"%s\" is not an absolute path of at "
				"most 107 characters; give the Docker socket's path, e.g. %s\n",
				arg, DNS_DOCKER_SOCKET);
			return -EINVAL;
		}
		d->socket = arg;
		return 0;
	}
	if (c == 'P') {
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || !arg[0] || v < 1024 || v > 65535) {
			fprintf(stderr,
				"tiernet: --names-port \"%s\" is not a port from 1024 to 65535; "
				"give a free UDP port (default %u)\n",
				arg, DNS_PORT_DEFAULT);
			return -EINVAL;
		}
		d->port = (uint16_t)v;
		return 0;
	}
	if (strcmp(arg, "on") && strcmp(arg, "off")) {
		fprintf(stderr, "tiernet: --names \"%s\" is neither on nor off\n", arg);
		return -EINVAL;
	}
	d->on = !strcmp(arg, "on");
	return 0;
}

static int parse_common(int argc, char **argv, struct serve_opts *o, bool *json)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "names", required_argument, NULL, 'N' },
		{ "docker-socket", required_argument, NULL, 'D' },
		{ "names-port", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c, lvl;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:c:d:l:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->state_dir = optarg;
			break;
		case 'l':
			lvl = log_parse_level(optarg);
			if (lvl < 0) {
				fprintf(stderr,
					"tiernet: --log-level \"%s\" is not one of error, "
					"warn, info, debug\n",
					optarg);
				return -EINVAL;
			}
			log_set_level((enum log_level)lvl);
			break;
		case 'j':
			if (json)
				*json = true;
			break;
		case 'h':
			return 1;
		case 'N':
		case 'D':
		case 'P':
			if (!o->serve || parse_names(c, optarg, &o->dns) < 0)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tiernet: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	struct serve_opts o = {
		PLUGIN_SOCKET_DEFAULT, NULL, PLUGIN_STATE_DEFAULT, .serve = true,
		.dns = { .on = true, .socket = DNS_DOCKER_SOCKET, .port = DNS_PORT_DEFAULT }
	};
	int r;

	if (env_defaults(&o) < 0)
		return 2;
	r = parse_common(argc, argv, &o, NULL);
	if (r) {
		usage_serve(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	return serve(&o);
}

static int cmd_check(int argc, char **argv)
{
	struct serve_opts o = { .socket = PLUGIN_SOCKET_DEFAULT,
				.state_dir = PLUGIN_STATE_DEFAULT };
	struct config_diags diags = { 0 };
	struct policy *pol = NULL;
	struct source src;
	int r;

	for (r = 1; r < argc; r++)
		if (!strcmp(argv[r], "--diff") || !strncmp(argv[r], "--diff=", 7))
			return diff_main(argc, argv); /* against the daemon: why_cmd.c */
	if (argc == 2 && !strcmp(argv[1], "--print-default")) {
		fputs(config_default_text, stdout);
		return 0;
	}
	if (env_defaults(&o) < 0)
		return 2;
	r = parse_common(argc, argv, &o, NULL);
	if (r) {
		usage_check(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	/* The question a reload asks: so check says what the daemon would do with the file. */
	r = source_load(o.config, o.state_dir, false, &pol, &src, &diags);
	if (r < 0) {
		config_diags_print(&diags, stderr);
		config_diags_free(&diags);
		return 1;
	}
	config_diags_free(&diags);
	policy_free(pol);
	printf("configuration OK\n");
	source_free(&src);
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	struct serve_opts o = { .socket = PLUGIN_SOCKET_DEFAULT,
				.state_dir = PLUGIN_STATE_DEFAULT };
	struct err err;
	char *reply = NULL;
	bool json = false;
	int r = parse_common(argc, argv, &o, &json);

	if (r) {
		usage_status(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	if (client_call(o.socket, "/tiernet.Status", json ? "{\"json\":true}" : "{}", &reply,
			&err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	fputs(reply, stdout);
	free(reply);
	return 0;
}

static bool wants_help(int argc, char **argv)
{
	return argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
}

static int cmd_version(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		usage_version(stdout);
		return 0;
	}
	if (argc > 1) {
		usage_version(stderr);
		return 2;
	}
	printf("tiernet %s\n", TIERNET_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	void (*usage)(FILE *f);
	const char *help;
} commands[] = {
	{ "serve", cmd_serve, usage_serve, "run the network plugin daemon" },
	{ "check", cmd_check, usage_check,
	  "check a policy file and print \"configuration OK\" or its errors" },
	{ "status", cmd_status, usage_status,
	  "show tiers, networks, endpoints, ports and rules of the running daemon" },
	{ "log", logcmd_main, logcmd_usage,
	  "show the new connections the policy denied (or would deny, in audit mode)" },
	{ "explain", explain_main, explain_usage,
	  "say why FROM may or may not reach TO, and the line that would allow it" },
	{ "graph", graph_main, graph_usage, "print the tier graph (DOT or Mermaid)" },
	{ "export", export_main, export_usage,
	  "print the policy as Kubernetes NetworkPolicy manifests (more than one host)" },
	{ "version", cmd_version, usage_version, "print the version" },
	{ "help", cmd_help, usage_help, "show this help, or a command's help" },
};

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;
	size_t i;

	if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
		c = find_command(argv[1]);
		if (!c) {
			fprintf(stderr, "tiernet: unknown command \"%s\"; see `tiernet help`\n",
				argv[1]);
			return 2;
		}
		c->usage(stdout);
		return 0;
	}
	printf("usage: tiernet COMMAND [OPTIONS]\n\n"
	       "tiernet is a Docker network plugin: tiers of bridged networks, routed to each\n"
	       "other only where a small policy file (%s) allows it.\n\n"
	       "commands:\n",
	       CONFIG_DEFAULT_PATH);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].help);
	printf("\n"
	       "examples:\n"
	       "  tiernet serve --log-level debug     # run the daemon (as root)\n"
	       "  tiernet check --config ./tiernet.conf\n"
	       "  docker network create -d tiernet -o tier=front --subnet 10.30.1.0/24 front\n"
	       "  tiernet status\n"
	       "  tiernet explain 10.30.1.2 10.30.2.2 tcp/8080   # allowed? why? the fix\n"
	       "  tiernet graph | dot -Tsvg > tiers.svg\n"
	       "  tiernet log --follow\n"
	       "  tiernet export kubernetes --config ./tiernet.conf | kubectl apply -f -\n"
	       "\n"
	       "`tiernet COMMAND --help` or `tiernet help COMMAND` shows a command's options;\n"
	       "`man 8 tiernet` describes the policy language.\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "help";
	const struct command *c;

	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	if (!strcmp(name, "--version"))
		name = "version";
	c = find_command(name);
	if (c)
		return c->fn(argc > 1 ? argc - 1 : argc, argc > 1 ? argv + 1 : argv);
	fprintf(stderr, "tiernet: unknown command \"%s\"; see `tiernet help`\n", name);
	return 2;
}
