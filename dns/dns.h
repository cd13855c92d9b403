/*
 * dns/: names across tiers.  Docker's embedded resolver forwards the names it does not
 * know out of the container's eth0, through the tier bridge, to the container's upstream
 * server; tiernet redirects those queries (nat TIERNET-DNS) to its resolver, answers the
 * names the policy lets the asking tier see, and relays everything else to the query's
 * original server.  Names come from the Engine API (the driver protocol carries none).
 *
 *   nametab.c   the name table and the matching rules (pure: unit tests, fuzzing)
 *   engjson.c   the Engine API's JSON (container inspect, events) into table records (pure)
 *   http.c      HTTP GET over a Unix socket; the response parser is pure
 *   engine.c    the Engine API client over the Docker socket, GET only
 *   msg.c       DNS messages: the question in, tiernet's answer out (pure)
 *   ratelimit.c queries per second per container (pure)
 *   origdst.c   the original destination of a redirected query (conntrack)
 *   resolver.c  the UDP socket, forwarding and relaying (one thread)
 *   service.c   start, stop, status: what plugin/ sees
 */
#ifndef TIERNET_DNS_H
#define TIERNET_DNS_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_PORT_DEFAULT  15353u /* where TIERNET-DNS redirects the queries */
#define DNS_TTL		  2	 /* seconds: answers follow changes within a second */
#define DNS_NAME_MAX	  254	 /* a name in text, with the NUL */
#define DNS_ID_LEN	  64	 /* Docker's IDs */
#define DNS_TIERS_MAX	  256	 /* POLICY_TIERS_MAX */
#define DNS_TIER_NAME_MAX 32	 /* POLICY_NAME_MAX */
#define DNS_ADDRS_MAX	  32	 /* addresses in one answer */
#define DNS_NAMES_MAX	  65536	 /* entries in the name table: bounded memory */
#define DNS_NAMES_PER_CT  64	 /* names (name and aliases x networks) of one container */
#define DNS_QPS		  200	 /* queries per second one container may send ... */
#define DNS_BURST	  400	 /* ... and in one burst */
#define DNS_PENDING_MAX	  1024	 /* queries forwarded and not yet answered */
#define DNS_FORWARD_MS	  5000	 /* how long an upstream may take */
#define DNS_DOCKER_SOCKET "/var/run/docker.sock"

/* RFC 1035's numbers that tiernet reads or writes */
#define DNS_OPCODE_QUERY   0
#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_REFUSED  5
#define DNS_TYPE_A	   1
#define DNS_TYPE_AAAA	   28

/* ---- nametab.c */
/* One name of one container on one network. */
struct nametab_entry {
	char name[DNS_NAME_MAX]; /* lowercase */
	char net_id[DNS_ID_LEN + 1];
	char ct_id[DNS_ID_LEN + 1];
	uint32_t addr4; /* network byte order; 0: none */
	bool has6;
	struct in6_addr addr6;
	bool primary; /* the container's own name, not an alias */
};

/* A snapshot: entries sorted by name (bsearch), read-only once built. */
struct nametab {
	struct nametab_entry *v;
	size_t n;
};

/* What the driver knows: tiers, which may reach which, which network is in which tier. */
struct nametab_view {
	size_t ntiers;
	const char (*tiers)[DNS_TIER_NAME_MAX];
	const bool *reach; /* ntiers x ntiers: may row open connections to column (any port)? */
	/* The tier index of network net_id, or -1 when it is not tiernet's. */
	int (*net_tier)(const void *ctx, const char *net_id);
	const void *ctx;
};

enum nametab_verdict {
	NAMETAB_FORWARD,  /* not tiernet's to answer: the upstream's */
	NAMETAB_ANSWER,	  /* tiernet's name: the addresses in the answer (maybe none: NODATA) */
	NAMETAB_NXDOMAIN, /* tiernet's name the asking tier may not see, or none at all */
};

struct nametab_answer {
	size_t n;
	int family;			  /* of v[] */
	struct in6_addr v[DNS_ADDRS_MAX]; /* AF_INET: the first 4 bytes */
};

/*
 * Sorts v[0..n) by name and makes it the table (which owns v).  Duplicates (same name,
 * network, container) are dropped.  Returns 0.
 */
int nametab_build(struct nametab *t, struct nametab_entry *v, size_t n);
void nametab_free(struct nametab *t);
/*
 * What tier src (an index of view) gets for qname (text, trailing dot optional, any case)
 * and family (AF_INET for A, AF_INET6 for AAAA, 0 for other types: never addresses).
 * NAME.TIER answers from TIER when src may reach it, else NXDOMAIN; a bare NAME answers
 * when exactly one tier src may reach has it, is NXDOMAIN when only tiers src may not reach
 * have it, and is forwarded otherwise (unknown or ambiguous).
 */
enum nametab_verdict nametab_resolve(const struct nametab *t, const struct nametab_view *view,
				     int src, const char *qname, int family,
				     struct nametab_answer *out);
/* Lowercases qname without its trailing dot into buf; false when it does not fit. */
bool nametab_norm(const char *qname, char *buf, size_t len);
/*
 * The name of the container with address addr (family AF_INET: 4 bytes, AF_INET6: 16)
 * into buf (NUL-terminated, truncated to len); false when no container of the table has
 * it.  For the denied-flow log: a walk of the table, at the log's rate limit.
 */
bool nametab_owner(const struct nametab *t, int family, const void *addr, char *buf, size_t len);
/* Names per tier in counts[0..view->ntiers) (entries whose network is tiernet's). */
void nametab_count(const struct nametab *t, const struct nametab_view *view, size_t *counts);

/* ---- engjson.c */
/* A container as the name table needs it. */
struct engjson_ct {
	char id[DNS_ID_LEN + 1];
	bool running;
	size_t n;
	struct nametab_entry *v; /* malloc'ed: its names on each of its networks */
};
/*
 * Decodes GET /containers/ID/json (body[0..len)) into ct.  Returns 0, -EINVAL for a body
 * that is not a container, -E2BIG past DNS_NAMES_PER_CT names, -ENOMEM.
 */
int engjson_container(const char *body, size_t len, struct engjson_ct *ct);
void engjson_ct_free(struct engjson_ct *ct);
/* The IDs in GET /containers/json: malloc'ed array of *n IDs.  0 or -errno. */
int engjson_list(const char *body, size_t len, char (**ids)[DNS_ID_LEN + 1], size_t *n);
/*
 * One line of the events stream: the container it concerns (a container event, or a
 * network connect/disconnect) into id.  Returns 1 when there is one, 0 when the event
 * concerns no container, -EINVAL when the line is not JSON.
 */
int engjson_event(const char *line, size_t len, char id[DNS_ID_LEN + 1]);

/* ---- http.c */
#define HTTP_LINE_MAX	8192	     /* the status line, a header, a chunk's size */
#define HTTP_LENGTH_MAX (1ull << 40) /* a Content-Length or chunk size that is not absurd */
/* Where the body goes as it arrives: 0 to go on, -errno to stop (http_get returns it). */
typedef int (*http_sink)(const char *p, size_t n, void *arg);
/* One response being read (pure: no I/O). */
struct http_resp {
	int state;
	long status;
	size_t left; /* bytes of the body or the chunk still to come */
	bool chunked, has_len;
	char line[HTTP_LINE_MAX];
	size_t nline;
	http_sink sink;
	void *arg;
};
void http_resp_init(struct http_resp *r, http_sink sink, void *arg);
/* Feeds n bytes: 1 when the response is complete, 0 when more is wanted, -errno (EPROTO: not
 * an HTTP response tiernet reads; E2BIG: a line too long; or the sink's error). */
int http_resp_feed(struct http_resp *r, const char *p, size_t n);
/* At the end of the connection: 0 when the response is complete, else -EPROTO. */
int http_resp_eof(const struct http_resp *r);
/*
 * GET path from the HTTP server on the Unix socket sock, the body to sink.  timeout_s > 0
 * bounds the whole exchange; stop (may be NULL) is looked at every second and ends it with
 * -ECANCELED.  Returns the HTTP status or -errno.
 */
long http_get(const char *sock, const char *path, int timeout_s, const atomic_bool *stop,
	      http_sink sink, void *arg);

/* ---- msg.c */
struct dnsmsg_query {
	uint16_t id;
	uint16_t qtype;
	char qname[DNS_NAME_MAX]; /* as asked */
};
/* Parses a query (one question, opcode QUERY, QR clear).  0 or -EINVAL. */
int dnsmsg_parse(const uint8_t *buf, size_t len, struct dnsmsg_query *q);
/*
 * Builds the answer to the query in buf[0..len): rcode (DNS_RCODE_*) and, for NOERROR,
 * the addresses a, TTL DNS_TTL.  Writes at most cap bytes to out.  Returns the length or
 * -errno.
 */
int dnsmsg_answer(const uint8_t *query, size_t len, int rcode, const struct nametab_answer *a,
		  uint8_t *out, size_t cap);

/* ---- ratelimit.c */
#define RATELIMIT_SLOTS 4096
struct ratelimit_slot {
	uint32_t key; /* the source address; 0 free */
	uint32_t tokens_milli;
	uint64_t last_ms;
};
struct ratelimit {
	struct ratelimit_slot v[RATELIMIT_SLOTS];
};
/* May src send one more query at now_ms?  Fixed memory: sources sharing a slot share it. */
bool ratelimit_take(struct ratelimit *rl, uint32_t src, uint64_t now_ms);

/* ---- origdst.c */
struct origdst;
struct origdst *origdst_open(void);
void origdst_close(struct origdst *o);
/*
 * The original destination of the UDP query from client that arrived at local (after
 * the redirection), from conntrack.  0 or -errno (-ENOENT: no such connection).
 */
int origdst_lookup(struct origdst *o, const struct sockaddr_in *client,
		   const struct sockaddr_in *local, struct sockaddr_in *orig);

/* ---- service.c */
struct dns_opts {
	bool on;	    /* --names on */
	const char *socket; /* --docker-socket */
	uint16_t port;	    /* the resolver's UDP port */
};
/*
 * Starts the name service: the Engine API thread and the resolver.  When the socket is
 * absent, logs one line and keeps looking for it every few seconds (the interception is
 * installed only while the name table comes from dockerd).  Returns 0 or -errno (logged).
 */
int dns_start(const struct dns_opts *o);
void dns_stop(void);
/* Appends the name service's status (text, or a JSON object's members) to a malloc'ed
 * string; NULL on ENOMEM. */
char *dns_status(bool json);
/* nametab_owner on the table in force (empty while the name service is off). */
bool dns_owner(int family, const void *addr, char *buf, size_t len);

/* The resolver and the engine share these (service.c). */
/* Replaces the table (takes t's entries); the resolver sees it at its next query. */
void dns_table_set(struct nametab *t);
/* The table in force, referenced: release with dns_table_put. */
struct nametab *dns_table_get(void);
void dns_table_put(struct nametab *t);
void dns_engine_state(bool connected, const char *why);

/* engine.c */
int engine_start(const char *socket);
void engine_stop(void);

/* resolver.c */
int resolver_start(uint16_t port);
void resolver_stop(void);
/* Counters for the status. */
struct resolver_stats {
	uint64_t answered, nxdomain, forwarded, refused, limited, failed;
};
void resolver_stats(struct resolver_stats *s);

#endif
