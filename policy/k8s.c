/*
 * The policy as Kubernetes NetworkPolicy manifests: `tiernet export kubernetes`.  Pure: a
 * struct policy in, YAML text and warnings out; no file, no kernel.
 *
 * A NetworkPolicy that selects a pod for a direction denies that direction for the pod
 * except what some policy selecting it allows (a union); a connection passes when the
 * source's egress and the destination's ingress both allow it.  So every tier gets a
 * default deny in and out, and each allow line becomes an ingress rule on its destination
 * plus an egress rule on its source:
 *
 *   tier T                    namespace T (K8S_NAMESPACES) or pods labelled tier=T in one
 *                             namespace (K8S_LABELS); tiernet-T-default-deny
 *   T not isolated            tiernet-T-intra-tier: in from and out to T, every port
 *   T isolated, allow T -> T  tiernet-T-intra-tier on those ports only
 *   every T                   tiernet-T-dns: out to kube-system k8s-app=kube-dns, udp+tcp/53
 *   T not internal            tiernet-T-to-world: out to 0.0.0.0/0 and ::/0 minus the cluster
 *   allow world -> T [PORTS]  tiernet-T-from-world: in from the same ipBlocks, on PORTS
 *   allow S -> T [PORTS]      tiernet-T-from-S (in, on T) and tiernet-S-to-T (out, on S)
 *   allow T -> host [PORTS]   nothing: a NetworkPolicy cannot select the node (a warning)
 *
 * YAML is written by hand: every string is either one of the fixed keys below, a checked
 * DNS-1123 label (quoted when YAML 1.1 would read it as a bool, null or number), or a
 * quoted address range; comments are wrapped and stripped of control characters.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/policy.h"

#define PREFIX	      "tiernet-"
#define MANAGED_KEY   "app.kubernetes.io/managed-by"
#define NS_NAME_KEY   "kubernetes.io/metadata.name" /* set by Kubernetes on every namespace */
#define TIER_KEY      "tier"
#define DNS_NS	      "kube-system"
#define DNS_KEY	      "k8s-app"
#define DNS_VALUE     "kube-dns" /* CoreDNS keeps kube-dns's labels */
#define LABELS_NS     "default"
#define COMMENT_WIDTH 96
#define OBJ_NAME_MAX  (2 * K8S_NAME_MAX + 32)

enum { TYPE_IN = 1, TYPE_OUT = 2 };

enum peer_kind {
	PEER_TIER,  /* the pods of one tier */
	PEER_DNS,   /* the cluster's DNS pods */
	PEER_WORLD, /* everything outside the cluster's ranges */
};

/* One ingress or egress rule: the peer, and the ports of an edge (NULL: every port). */
struct rule {
	enum peer_kind peer;
	int tier; /* PEER_TIER */
	const struct policy_edge *ports;
};

struct writer {
	const struct policy *pol;
	const struct k8s_opts *o;
	char (*name)[K8S_NAME_MAX]; /* each tier's Kubernetes name */
	char (*ns)[K8S_NAME_MAX];   /* each tier's namespace */
	FILE *f;		    /* the manifests */
	FILE *warn;		    /* the warnings, one per line */
	char **objs;		    /* "namespace/name" of every object, to refuse duplicates */
	size_t nobjs, objs_cap;
	struct k8s_result *res;
	int err; /* -ENOMEM once an allocation failed */
};

__attribute__((format(printf, 2, 3))) static int refuse(struct writer *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->res->err, sizeof(w->res->err), fmt, ap);
	va_end(ap);
	/* Quoted values (a --namespace) could carry control characters to the terminal. */
	for (char *p = w->res->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

/* ---------------------------------------------------------------------------------------
 * Text
 */

/* YAML 1.1 (what kubectl's parser speaks) reads these plain words as bools or null. */
static bool yaml_plain_ok(const char *s)
{
	static const char *const reserved[] = { "y",	 "yes", "n",   "no",  "true",
						"false", "on",	"off", "null" };
	size_t i;

	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return false; /* a leading digit could read as a number */
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(s, reserved[i]))
			return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

/* A DNS-1123 label or an address range: plain when unambiguous, else double-quoted. */
static void scalar(FILE *f, const char *s)
{
	if (yaml_plain_ok(s))
		fputs(s, f);
	else
		fprintf(f, "\"%s\"", s); /* callers pass only [a-z0-9.:/-]: nothing to escape */
}

/*
 * Writes text as comment lines of at most COMMENT_WIDTH columns, the first starting with
 * first, the others with rest.  Control characters become '?'.
 */
static void comment(FILE *f, const char *first, const char *rest, const char *text)
{
	const char *lead = first, *p = text;
	size_t col, n;

	while (*p) {
		col = strlen(lead);
		fputs(lead, f);
		lead = rest;
		/* Take words while they fit; a word longer than the line goes alone. */
		n = 0;
		for (;;) {
			size_t word = strcspn(p + n, " ");
			size_t next = n + word;

			if (n && col + next > COMMENT_WIDTH)
				break;
			n = next;
			if (!p[n])
				break;
			n++; /* the space */
		}
		for (size_t i = 0; i < n && (i + 1 < n || p[i] != ' '); i++) {
			unsigned char c = (unsigned char)p[i];

			fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
		}
		p += n;
		while (*p == ' ')
			p++;
		fputc('\n', f);
	}
}

__attribute__((format(printf, 4, 5))) static void commentf(FILE *f, const char *first,
							   const char *rest, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	comment(f, first, rest, buf);
}

static const char *proto_name(uint8_t proto, bool upper)
{
	if (proto == IPPROTO_UDP)
		return upper ? "UDP" : "udp";
	return upper ? "TCP" : "tcp";
}

/* The ports of e as the policy file writes them: "tcp/80, udp/53, tcp/9000-9100". */
static void ports_text(const struct policy_edge *e, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; e && i < e->nports && used < len; i++) {
		const struct policy_port *p = &e->ports[i];
		int n;

		if (p->lo == p->hi)
			n = snprintf(buf + used, len - used, "%s%s/%u", i ? ", " : "",
				     proto_name(p->proto, false), p->lo);
		else
			n = snprintf(buf + used, len - used, "%s%s/%u-%u", i ? ", " : "",
				     proto_name(p->proto, false), p->lo, p->hi);
		used += n > 0 ? (size_t)n : 0;
	}
}

static const char *end_name(const struct writer *w, int t)
{
	if (t == POLICY_WORLD)
		return "world";
	if (t == POLICY_HOST)
		return "host";
	return w->pol->tiers[t].name;
}

/* "allow S -> T PORTS", as in the policy file. */
static void edge_text(const struct writer *w, const struct policy_edge *e, char *buf, size_t len)
{
	char ports[4096];

	ports_text(e, ports, sizeof(ports));
	snprintf(buf, len, "allow %s -> %s%s%s", end_name(w, e->src), end_name(w, e->dst),
		 ports[0] ? " " : "", ports);
}

/* ---------------------------------------------------------------------------------------
 * Names
 */

static int check_opts(struct writer *w)
{
	const struct k8s_opts *o = w->o;
	size_t i, j;

	if (o->mode != K8S_NAMESPACES && o->mode != K8S_LABELS)
		return refuse(w, "unknown export mode %d", (int)o->mode);
	if (o->ns && !k8s_label_ok(o->ns))
		return refuse(w,
			      "--namespace \"%.80s\" is not a Kubernetes namespace name: use "
			      "lowercase "
			      "letters, digits and '-', starting and ending with a letter or "
			      "digit, "
			      "at most %d characters",
			      o->ns, K8S_LABEL_MAX);
	if (o->ns && o->mode == K8S_LABELS && !strncmp(o->ns, "kube-", 5))
		return refuse(w,
			      "--namespace \"%s\": namespaces starting with \"kube-\" are "
			      "Kubernetes' own: choose the namespace of your application",
			      o->ns);
	if (o->ncidrs > K8S_CIDRS_MAX)
		return refuse(w, "too many --cluster-cidr ranges (%zu, at most %d)", o->ncidrs,
			      K8S_CIDRS_MAX);
	for (i = 0; i < o->ncidrs; i++) {
		for (j = 0; j < i; j++) {
			char c[K8S_CIDR_TEXT_MAX];

			if (!k8s_cidr_equal(&o->cidrs[i], &o->cidrs[j]))
				continue;
			k8s_cidr_format(&o->cidrs[i], c, sizeof(c));
			return refuse(w, "--cluster-cidr %s is given twice: give each range once",
				      c);
		}
	}
	return 0;
}

/* The namespace of tier i, from its Kubernetes name. */
static int tier_namespace(struct writer *w, size_t i)
{
	const struct k8s_opts *o = w->o;
	const char *tier = w->pol->tiers[i].name;
	int n;

	if (o->mode == K8S_LABELS) {
		snprintf(w->ns[i], K8S_NAME_MAX, "%s", o->ns ? o->ns : LABELS_NS);
		return 0;
	}
	if (o->ns)
		n = snprintf(w->ns[i], K8S_NAME_MAX, "%s-%s", o->ns, w->name[i]);
	else
		n = snprintf(w->ns[i], K8S_NAME_MAX, "%s", w->name[i]);
	if (n < 0 || n > K8S_LABEL_MAX)
		return refuse(w,
			      "tier \"%s\" would be the namespace \"%s-%s\", longer than %d "
			      "characters: use a shorter --namespace",
			      tier, o->ns ? o->ns : "", w->name[i], K8S_LABEL_MAX);
	if (!strncmp(w->ns[i], "kube-", 5))
		return refuse(w,
			      "tier \"%s\" would be the namespace \"%s\", and namespaces starting "
			      "with \"kube-\" are Kubernetes' own: rename the tier or give "
			      "--namespace",
			      tier, w->ns[i]);
	return 0;
}

/* Every tier's Kubernetes name and namespace; mapped names are reported. */
static int tier_names(struct writer *w)
{
	const struct policy *pol = w->pol;
	size_t i, j;
	int ret;

	for (i = 0; i < pol->ntiers; i++) {
		const struct policy_tier *t = &pol->tiers[i];

		if (k8s_tier_name(t->name, w->name[i], K8S_NAME_MAX) < 0)
			return refuse(w,
				      "tier \"%s\" (line %u) has no Kubernetes name: names there "
				      "end with a letter or digit; rename the tier",
				      t->name, t->line);
		for (j = 0; j < i; j++)
			if (!strcmp(w->name[i], w->name[j]))
				return refuse(w,
					      "tiers \"%s\" (line %u) and \"%s\" (line %u) are "
					      "both "
					      "\"%s\" in Kubernetes, which has no uppercase or '_' "
					      "in names: rename one of them",
					      pol->tiers[j].name, pol->tiers[j].line, t->name,
					      t->line, w->name[i]);
		ret = tier_namespace(w, i);
		if (ret)
			return ret;
		if (strcmp(t->name, w->name[i]))
			fprintf(w->warn,
				"tier \"%s\" is called \"%s\" in Kubernetes (names there have no "
				"uppercase letters and no '_')\n",
				t->name, w->name[i]);
	}
	return 0;
}

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remembers "ns/name"; duplicates are found once everything is written. */
static void obj_add(struct writer *w, const char *ns, const char *name)
{
	char buf[OBJ_NAME_MAX * 2];
	char **v;

	if (w->err)
		return;
	if (w->nobjs == w->objs_cap) {
		v = reallocarray(w->objs, w->objs_cap ? w->objs_cap * 2 : 64, sizeof(*v));
		if (!v) {
			w->err = -ENOMEM;
			return;
		}
		w->objs = v;
		w->objs_cap = w->objs_cap ? w->objs_cap * 2 : 64;
	}
	snprintf(buf, sizeof(buf), "%s/%s", ns, name);
	w->objs[w->nobjs] = strdup(buf);
	if (!w->objs[w->nobjs])
		w->err = -ENOMEM;
	else
		w->nobjs++;
}

/* Tier names with '-' can make two objects' names meet ("a-to-b" to "c", "a" to "b-to-c"). */
static int objs_unique(struct writer *w)
{
	size_t i;

	if (w->nobjs < 2)
		return 0;
	qsort(w->objs, w->nobjs, sizeof(*w->objs), obj_cmp);
	for (i = 1; i < w->nobjs; i++)
		if (!strcmp(w->objs[i - 1], w->objs[i]))
			return refuse(w,
				      "two NetworkPolicies would be called \"%s\" (tier names with "
				      "'-' meet in object names): rename a tier or use "
				      "--mode namespaces",
				      w->objs[i]);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * What NetworkPolicy cannot say: warnings, also the header's last paragraph.
 */

static bool any_world(const struct writer *w)
{
	size_t i;

	for (i = 0; i < w->pol->ntiers; i++)
		if (!w->pol->tiers[i].internal)
			return true;
	for (i = 0; i < w->pol->nedges; i++)
		if (w->pol->edges[i].src == POLICY_WORLD)
			return true;
	return false;
}

/* Audit mode lets denied flows through on the host; the manifests deny them. */
static void audit_gaps(struct writer *w)
{
	const struct policy *pol = w->pol;
	size_t i;

	if (pol->audit)
		fprintf(w->warn,
			"line %u: audit: NetworkPolicy has no audit mode, so the manifests "
			"enforce the policy: what tiernet lets through as \"would deny\" is denied "
			"in the cluster\n",
			pol->audit_line);
	for (i = 0; !pol->audit && i < pol->ntiers; i++)
		if (pol->tiers[i].audit)
			fprintf(w->warn,
				"line %u: tier %s audit: NetworkPolicy has no audit mode, so the "
				"manifests enforce the policy: what tiernet lets through as "
				"\"would "
				"deny\" is denied in the cluster\n",
				pol->tiers[i].line, pol->tiers[i].name);
}

static void gaps(struct writer *w)
{
	const struct policy *pol = w->pol;
	char line[4200], ports[4096];
	size_t i;

	for (i = 0; i < pol->nedges; i++) {
		const struct policy_edge *e = &pol->edges[i];

		edge_text(w, e, line, sizeof(line));
		ports_text(e, ports, sizeof(ports));
		if (e->dst == POLICY_HOST)
			fprintf(w->warn,
				"line %u: %s: a NetworkPolicy cannot select the node, so nothing "
				"is "
				"written for this line; %s: add an egress rule to an ipBlock of "
				"the "
				"node addresses%s%s if they need them\n",
				e->line, line,
				pol->tiers[e->src].internal
				    ? "pods of this internal tier do not reach the nodes"
				    : "pods of the tier reach the nodes only through their world "
				      "egress, on every port, where the network plugin matches "
				      "ipBlocks against node addresses and --cluster-cidr does not "
				      "list the nodes' range",
				e->nports ? " on " : "", ports);
		else if (e->src == POLICY_WORLD)
			fprintf(w->warn,
				"line %u: %s: becomes ingress from outside addresses on %s, but "
				"publishing is not a policy: expose the pods "
				"with a Service (NodePort or LoadBalancer) or an Ingress, with "
				"externalTrafficPolicy: Local to keep client addresses as tiernet "
				"does (with Cluster, traffic comes from a node's address, which "
				"--cluster-cidr may exclude)\n",
				e->line, line,
				e->nports ? "those container ports" : "every container port");
	}
	audit_gaps(w);
	if (pol->ntiers)
		fprintf(w->warn,
			"the host may always open connections to tiernet containers; a "
			"NetworkPolicy cannot name the node: most network plugins (Calico, Cilium) "
			"let the kubelet's health probes from the node through whatever the "
			"policy, other connections from the nodes depend on the plugin\n");
	if (!w->o->ncidrs && any_world(w))
		fprintf(w->warn,
			"no --cluster-cidr given: the world is all of 0.0.0.0/0 and ::/0, which "
			"holds the cluster's own pod, Service and node addresses; network plugins "
			"that match ipBlocks against pods (Calico does) then let every tier with "
			"world egress reach the ports that allow world -> T lines open, and tiers "
			"reach and be reached by pods in no tier: give the pod, Service and node "
			"ranges with --cluster-cidr\n");
}

/* ---------------------------------------------------------------------------------------
 * Manifests
 */

static bool any_range(const struct policy *pol)
{
	size_t i, j;

	for (i = 0; i < pol->nedges; i++)
		for (j = 0; j < pol->edges[i].nports; j++)
			if (pol->edges[i].ports[j].lo != pol->edges[i].ports[j].hi)
				return true;
	return false;
}

static void header(struct writer *w, const char *warnings)
{
	const struct k8s_opts *o = w->o;
	FILE *f = w->f;
	char c[K8S_CIDR_TEXT_MAX], ranges[K8S_CIDRS_MAX * (K8S_CIDR_TEXT_MAX + 2)] = "";
	const char *p;
	size_t i;

	commentf(f, "# ", "# ",
		 "Kubernetes NetworkPolicy manifests for the tiernet policy %s, written by "
		 "`tiernet export kubernetes --mode %s`. Apply them with `kubectl apply -f FILE`.",
		 o->source ? o->source : "(unnamed)",
		 o->mode == K8S_LABELS ? "labels" : "namespaces");
	fputs("#\n", f);
	if (o->mode == K8S_LABELS)
		commentf(f, "# ", "# ",
			 "Each tier is the pods labelled tier=NAME in the namespace %s. Pods "
			 "without that label are in no tier: these policies do not restrict them, "
			 "and tiers neither reach them nor are reached by them.",
			 o->ns ? o->ns : LABELS_NS);
	else if (o->ns)
		commentf(f, "# ", "# ",
			 "Each tier is the namespace %s-TIER: a pod is in a tier by its namespace.",
			 o->ns);
	else
		commentf(f, "# ", "# ",
			 "Each tier is the namespace of the same name: a pod is in a tier by its "
			 "namespace.");
	commentf(f, "# ", "# ",
		 "Every tier denies all connections in and out but those the policies below "
		 "allow; replies always pass. They need a network plugin that enforces "
		 "NetworkPolicy (Calico, Cilium, ...) and Kubernetes 1.22 or later (namespaces "
		 "are selected by their " NS_NAME_KEY " label)%s.",
		 any_range(w->pol) ? "; port ranges (endPort) need 1.25 or later" : "");
	commentf(f, "# ", "# ",
		 "DNS: every tier may reach the cluster's DNS, the " DNS_NS
		 " pods labelled " DNS_KEY "=" DNS_VALUE
		 ", on udp/53 and tcp/53 (CoreDNS's default labels; "
		 "change them for another DNS service or NodeLocal DNSCache).");
	for (i = 0; i < o->ncidrs; i++) {
		k8s_cidr_format(&o->cidrs[i], c, sizeof(c));
		snprintf(ranges + strlen(ranges), sizeof(ranges) - strlen(ranges), "%s%s",
			 i ? ", " : "", c);
	}
	commentf(f, "# ", "# ", "World: 0.0.0.0/0 and ::/0%s%s%s.",
		 o->ncidrs ? " except the cluster's ranges (" : ", no --cluster-cidr given", ranges,
		 o->ncidrs ? ")" : "");
	if (!*warnings)
		return;
	fputs("#\n# What NetworkPolicy cannot say (also printed on stderr):\n", f);
	for (p = warnings; *p;) {
		size_t n = strcspn(p, "\n");
		char buf[8192];

		snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
		comment(f, "# - ", "#   ", buf);
		p += n + (p[n] == '\n');
	}
}

static void metadata(struct writer *w, const char *name, const char *ns)
{
	FILE *f = w->f;

	fputs("metadata:\n  name: ", f);
	scalar(f, name);
	fputc('\n', f);
	if (ns) {
		fputs("  namespace: ", f);
		scalar(f, ns);
		fputc('\n', f);
	}
	fputs("  labels:\n    " MANAGED_KEY ": tiernet\n", f);
}

static void namespace_doc(struct writer *w, const char *ns, const char *why)
{
	fputs("---\n", w->f);
	comment(w->f, "# ", "# ", why);
	fputs("apiVersion: v1\nkind: Namespace\n", w->f);
	metadata(w, ns, NULL);
	obj_add(w, "", ns);
}

static void namespaces(struct writer *w)
{
	const struct policy *pol = w->pol;
	char why[256];
	size_t i;

	if (w->o->mode == K8S_LABELS) {
		if (strcmp(w->ns[0], LABELS_NS))
			namespace_doc(w, w->ns[0], "the namespace of every tier");
		return;
	}
	for (i = 0; i < pol->ntiers; i++) {
		const struct policy_tier *t = &pol->tiers[i];

		snprintf(why, sizeof(why), "line %u: tier %s%s%s", t->line, t->name,
			 t->internal ? " internal" : "", t->isolated ? " isolated" : "");
		namespace_doc(w, w->ns[i], why);
	}
}

/* "matchLabels: {key: value}" at the given indentation. */
static void match_labels(FILE *f, const char *indent, const char *key, const char *value)
{
	fprintf(f, "%smatchLabels:\n%s  %s: ", indent, indent, key);
	scalar(f, value);
	fputc('\n', f);
}

/* The pods a policy of tier t applies to. */
static void pod_selector(struct writer *w, int t)
{
	if (w->o->mode == K8S_NAMESPACES) {
		fputs("  podSelector: {}\n", w->f);
		return;
	}
	fputs("  podSelector:\n", w->f);
	match_labels(w->f, "    ", TIER_KEY, w->name[t]);
}

static void world_block(struct writer *w, int family, const char *all)
{
	const struct k8s_opts *o = w->o;
	char c[K8S_CIDR_TEXT_MAX];
	bool first = true;
	size_t i;

	fprintf(w->f, "    - ipBlock:\n        cidr: \"%s\"\n", all);
	for (i = 0; i < o->ncidrs; i++) {
		if (o->cidrs[i].family != family)
			continue;
		if (first)
			fputs("        except:\n", w->f);
		first = false;
		k8s_cidr_format(&o->cidrs[i], c, sizeof(c));
		fprintf(w->f, "        - \"%s\"\n", c);
	}
}

/* The peer of a rule of a policy that applies to tier self. */
static void peer(struct writer *w, const struct rule *r, int self)
{
	FILE *f = w->f;

	switch (r->peer) {
	case PEER_TIER:
		if (w->o->mode == K8S_LABELS) {
			fputs("    - podSelector:\n", f);
			match_labels(f, "        ", TIER_KEY, w->name[r->tier]);
		} else if (r->tier == self) {
			fputs("    - podSelector: {}\n", f);
		} else {
			fputs("    - namespaceSelector:\n", f);
			match_labels(f, "        ", NS_NAME_KEY, w->ns[r->tier]);
		}
		break;
	case PEER_DNS:
		fputs("    - namespaceSelector:\n", f);
		match_labels(f, "        ", NS_NAME_KEY, DNS_NS);
		fputs("      podSelector:\n", f);
		match_labels(f, "        ", DNS_KEY, DNS_VALUE);
		break;
	case PEER_WORLD:
		world_block(w, AF_INET, "0.0.0.0/0");
		world_block(w, AF_INET6, "::/0");
		break;
	}
}

static void port(FILE *f, uint8_t proto, uint16_t lo, uint16_t hi)
{
	fprintf(f, "    - protocol: %s\n      port: %u\n", proto_name(proto, true), lo);
	if (hi != lo)
		fprintf(f, "      endPort: %u\n", hi);
}

static void rule(struct writer *w, const struct rule *r, bool ingress, int self)
{
	size_t i;

	fprintf(w->f, "  - %s:\n", ingress ? "from" : "to");
	peer(w, r, self);
	if (r->peer == PEER_DNS) {
		fputs("    ports:\n", w->f);
		port(w->f, IPPROTO_UDP, 53, 53);
		port(w->f, IPPROTO_TCP, 53, 53);
		return;
	}
	if (!r->ports || !r->ports->nports)
		return; /* no ports: every port and protocol */
	fputs("    ports:\n", w->f);
	for (i = 0; i < r->ports->nports; i++)
		port(w->f, r->ports->ports[i].proto, r->ports->ports[i].lo, r->ports->ports[i].hi);
}

/*
 * One NetworkPolicy for the pods of tier t, called tiernet-T<suffix>, with the given
 * policyTypes and at most one ingress and one egress rule.
 */
static void policy_doc(struct writer *w, int t, const char *suffix, const char *why, int types,
		       const struct rule *in, const struct rule *out)
{
	char name[OBJ_NAME_MAX];
	FILE *f = w->f;

	snprintf(name, sizeof(name), PREFIX "%s%s", w->name[t], suffix);
	fputs("---\n", f);
	comment(f, "# ", "# ", why);
	fputs("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n", f);
	metadata(w, name, w->ns[t]);
	obj_add(w, w->ns[t], name);
	fputs("spec:\n", f);
	pod_selector(w, t);
	fputs("  policyTypes:\n", f);
	if (types & TYPE_IN)
		fputs("  - Ingress\n", f);
	if (types & TYPE_OUT)
		fputs("  - Egress\n", f);
	if (in) {
		fputs("  ingress:\n", f);
		rule(w, in, true, t);
	}
	if (out) {
		fputs("  egress:\n", f);
		rule(w, out, false, t);
	}
}

/* The objects every tier has, whatever its allow lines. */
static void tier_docs(struct writer *w, int t)
{
	const struct policy_tier *tier = &w->pol->tiers[t];
	const struct policy_edge *self = policy_edge_find(w->pol, t, t);
	struct rule r = { .peer = PEER_TIER, .tier = t };
	char why[4400], line[4200];

	snprintf(why, sizeof(why),
		 "tier %s: no connection in or out but what the policies below allow", tier->name);
	policy_doc(w, t, "-default-deny", why, TYPE_IN | TYPE_OUT, NULL, NULL);
	if (!tier->isolated) {
		snprintf(why, sizeof(why),
			 "tier %s is not isolated: its pods reach each other on every port",
			 tier->name);
		policy_doc(w, t, "-intra-tier", why, TYPE_IN | TYPE_OUT, &r, &r);
	} else if (self) {
		r.ports = self;
		edge_text(w, self, line, sizeof(line));
		snprintf(why, sizeof(why), "line %u: %s (tier %s is isolated: these ports only)",
			 self->line, line, tier->name);
		policy_doc(w, t, "-intra-tier", why, TYPE_IN | TYPE_OUT, &r, &r);
	}
	r = (struct rule){ .peer = PEER_DNS };
	snprintf(why, sizeof(why), "tier %s may resolve names with the cluster's DNS", tier->name);
	policy_doc(w, t, "-dns", why, TYPE_OUT, NULL, &r);
	if (!tier->internal) {
		r = (struct rule){ .peer = PEER_WORLD };
		snprintf(why, sizeof(why),
			 "tier %s is not internal: it may open connections to the world",
			 tier->name);
		policy_doc(w, t, "-to-world", why, TYPE_OUT, NULL, &r);
	}
}

/* The objects of one allow line: ingress on its destination, egress on its source. */
static void edge_docs(struct writer *w, const struct policy_edge *e)
{
	char why[4400], line[4200], suffix[K8S_NAME_MAX + 8];
	struct rule r = { .ports = e };

	edge_text(w, e, line, sizeof(line));
	if (e->dst == POLICY_HOST) {
		commentf(w->f, "# ", "# ",
			 "line %u: %s: nothing a NetworkPolicy can say (see the top of this file)",
			 e->line, line);
		return;
	}
	if (e->src == e->dst)
		return; /* an isolated tier's own ports: its intra-tier policy */
	if (e->src == POLICY_WORLD) {
		r.peer = PEER_WORLD;
		snprintf(why, sizeof(why),
			 "line %u: %s (publish the ports with a Service, see the top of this file)",
			 e->line, line);
		policy_doc(w, e->dst, "-from-world", why, TYPE_IN, &r, NULL);
		return;
	}
	r.peer = PEER_TIER;
	r.tier = e->src;
	snprintf(why, sizeof(why), "line %u: %s (the ingress side, on %s)", e->line, line,
		 w->pol->tiers[e->dst].name);
	snprintf(suffix, sizeof(suffix), "-from-%s", w->name[e->src]);
	policy_doc(w, e->dst, suffix, why, TYPE_IN, &r, NULL);
	r.tier = e->dst;
	snprintf(why, sizeof(why), "line %u: %s (the egress side, on %s)", e->line, line,
		 w->pol->tiers[e->src].name);
	snprintf(suffix, sizeof(suffix), "-to-%s", w->name[e->dst]);
	policy_doc(w, e->src, suffix, why, TYPE_OUT, NULL, &r);
}

/* Every edge must name tiers of pol, as policy_compile requires. */
static bool edges_valid(const struct policy *pol)
{
	size_t i;

	for (i = 0; i < pol->nedges; i++) {
		const struct policy_edge *e = &pol->edges[i];

		if (e->src >= (int)pol->ntiers || e->dst >= (int)pol->ntiers ||
		    (e->src < 0 && e->src != POLICY_WORLD) ||
		    (e->dst < 0 && e->dst != POLICY_HOST) || (e->src < 0 && e->dst < 0))
			return false;
	}
	return true;
}

static int write_all(struct writer *w)
{
	size_t i;
	int ret;

	ret = check_opts(w);
	if (!ret && !edges_valid(w->pol))
		ret = refuse(w, "the policy has an allow line that names no tier");
	if (!ret)
		ret = tier_names(w);
	if (ret)
		return ret;
	gaps(w);
	if (fflush(w->warn))
		return -ENOMEM;
	/* The stream stays open; after fflush its buffer holds what was written so far. */
	header(w, w->res->warnings ? w->res->warnings : "");
	if (w->pol->ntiers)
		namespaces(w);
	for (i = 0; i < w->pol->ntiers; i++)
		tier_docs(w, (int)i);
	for (i = 0; i < w->pol->nedges; i++)
		edge_docs(w, &w->pol->edges[i]);
	if (w->err)
		return w->err;
	return objs_unique(w);
}

int k8s_export(const struct policy *pol, const struct k8s_opts *o, struct k8s_result *res)
{
	struct writer w = { .pol = pol, .o = o, .res = res };
	size_t ylen = 0, wlen = 0, i;
	int ret = -ENOMEM, closed;

	memset(res, 0, sizeof(*res));
	w.name = calloc(pol->ntiers + 1, sizeof(*w.name));
	w.ns = calloc(pol->ntiers + 1, sizeof(*w.ns));
	w.f = open_memstream(&res->yaml, &ylen);
	w.warn = open_memstream(&res->warnings, &wlen);
	if (w.name && w.ns && w.f && w.warn)
		ret = write_all(&w);
	closed = (w.f ? fclose(w.f) : 0) | (w.warn ? fclose(w.warn) : 0);
	if (!ret && (closed || !res->yaml || !res->warnings))
		ret = -ENOMEM;
	for (i = 0; i < w.nobjs; i++)
		free(w.objs[i]);
	free(w.objs);
	free(w.name);
	free(w.ns);
	if (ret) {
		char err[sizeof(res->err)];

		memcpy(err, res->err, sizeof(err));
		k8s_result_free(res);
		memcpy(res->err, err, sizeof(err));
		if (ret == -ENOMEM && !res->err[0])
			snprintf(res->err, sizeof(res->err), "out of memory");
	}
	return ret;
}

void k8s_result_free(struct k8s_result *res)
{
	free(res->yaml);
	free(res->warnings);
	memset(res, 0, sizeof(*res));
}
