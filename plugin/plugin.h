/*
 * plugin/: the remote-driver protocol on a Unix socket.  proto.c turns request bodies into
 * driver requests and driver replies into JSON; routes.c maps each path to its handler;
 * server.c runs libmicrohttpd; main.c has the commands, start-up, signals and shutdown.
 */
#ifndef TIERNET_PLUGIN_H
#define TIERNET_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "driver/driver.h"

#define PLUGIN_SOCKET_DEFAULT "/run/docker/plugins/tiernet.sock"
#define PLUGIN_STATE_DEFAULT  "/var/lib/tiernet"
#define PLUGIN_BODY_MAX	      (1024 * 1024) /* bytes; larger requests get 413 */
#define PLUGIN_JSON_DEPTH_MAX 16	    /* nesting; dockerd's bodies need 4 */
#define PLUGIN_CONTENT_TYPE   "application/vnd.docker.plugins.v1+json"

/* proto.c: every decoder returns 0 or -EINVAL with a sentence for the user in err. */
int proto_decode_create_network(const char *body, size_t len, struct driver_net_req *req,
				struct err *err);
int proto_decode_create_endpoint(const char *body, size_t len, struct driver_ep_req *req,
				 struct err *err);
int proto_decode_join(const char *body, size_t len, struct driver_join_req *req, struct err *err);
int proto_decode_pec(const char *body, size_t len, struct driver_pec_req *req, struct err *err);
/* Requests that carry only IDs; ep_id may be NULL for network-only calls. */
int proto_decode_ids(const char *body, size_t len, char net_id[DRIVER_ID_LEN + 1],
		     char ep_id[DRIVER_ID_LEN + 1], struct err *err);
/* Encoders return a malloc'ed JSON text, or NULL on ENOMEM. */
char *proto_encode_err(const char *msg);
char *proto_encode_create_endpoint(const struct driver_ep_reply *reply);
char *proto_encode_join(const struct driver_join_reply *reply);

/* routes.c */
struct route_reply {
	unsigned status; /* HTTP status */
	char *body;	 /* malloc'ed JSON text */
};
/*
 * Handles one request: path, body[0..len).  Always fills out (an error becomes a JSON
 * {"Err": "..."} body).  Returns 0, or -ENOMEM when not even an error body could be made.
 */
int route_handle(const char *path, const char *body, size_t len, struct route_reply *out);

/* server.c */
/*
 * Binds the Unix socket at path (parent directory created 0700, a stale socket replaced,
 * mode 0600) and serves it with libmicrohttpd threads.  Returns 0 or -errno (logged).
 */
int server_start(const char *path);
/* Removes the socket, lets the calls under way finish (at most SERVER_DRAIN_S), stops. */
void server_stop(void);
#define SERVER_DRAIN_S 10

/* conns.c: bounding the connections (see there) */
#define CONNS_MAX	       256 /* past this, the longest idle connection makes room */
#define CONNS_MAX_TEXT	       "256"
#define CONNS_REQUEST_S	       10  /* seconds a request may take to arrive in full */
#define CONNS_IDLE_S	       120 /* seconds a connection may sit idle (libmicrohttpd's timeout) */
#define CONNS_DRAIN_ARRIVING_S 1   /* at a stop, seconds a request still arriving may take */
/* Called by server.c from libmicrohttpd's callbacks; ctx is conns_started's result. */
void *conns_started(int fd);
/* server.c, at a stop: fd was taken from the backlog and handed to libmicrohttpd. */
int conns_expect(int fd);
void conns_unexpect(int fd);
void conns_closed(void *ctx);
void conns_request(void *ctx);
void conns_busy(void *ctx, bool busy);
void conns_done(void *ctx);
int conns_start(void);
size_t conns_drain(unsigned timeout_s);
void conns_stop(void);

/* source.c: where the policy comes from (the file, the embedded default, the kept copy) */
struct policy;
struct config_diags;
struct source {
	char *text;	   /* the policy's text, malloc'ed */
	char origin[4096]; /* the file it came from, or "embedded" */
	char name[4200];   /* as the messages name it */
	bool kept;	   /* the copy kept in the state directory stood in for the file */
};
/*
 * Loads the policy for a start (start true) or a reload/check: from config, else the
 * default file, else the embedded default while the default file has never been in force
 * (state_dir's policy.json).  Returns 0 with *pol and src filled, or -errno with every
 * problem in diags.
 */
int source_load(const char *config, const char *state_dir, bool start, struct policy **pol,
		struct source *src, struct config_diags *diags);
/* Records src as the policy in force in the state directory; 0 or -errno with err. */
int source_keep(const struct source *src, struct err *err);
void source_free(struct source *src);

/* ---- the denied-flow log (README "Why is my traffic dropped?": tiernet log) ---- */

/* denyrec.c */
#define DENYREC_COPY 128 /* bytes of each logged packet the kernel sends: the headers */
/*
 * Decodes an NFLOG record of tiernet's: prefix (policy.h POLICY_LOG_*) and the packet
 * pkt[0..len) from its IPv4 or IPv6 header on, into d's family, protocol, addresses, ports
 * and audit/to_host flags (d is zeroed first).  Returns 0, or -EINVAL for a prefix that is
 * not tiernet's or a packet too short to hold its headers.
 */
int denyrec_decode(const char *prefix, const unsigned char *pkt, size_t len,
		   struct driver_denial *d);

/* denials.c: the bounded ring of the last denials, and the daemon's log line for them */
#define DENIALS_MAX	 1024 /* entries kept; the oldest makes room */
#define DENIALS_LOG_S	 60   /* one log line per (source tier, destination tier, port) */
#define DENIALS_KEYS_MAX 256  /* pairs remembered for that; past it, the oldest is forgotten */
/* Describes d (driver_deny_describe), keeps it with the time now, logs it (rate-limited). */
void denials_add(struct driver_denial *d);
/*
 * The admin route /tiernet.Log: body {"after": SEQ, "since": UNIX_MS} (both optional).
 * Replies {"audit": "mid, back" or "all" or "", "listening": bool, "next": SEQ, "lost": N,
 * "entries": [...]}: the kept entries after SEQ and not older than since, oldest first.
 * Returns 0 or -errno with err.
 */
int denials_route(const char *body, size_t len, char **reply, struct err *err);
/* The entry as one JSON object (the ring's and the fuzz harness's); NULL on ENOMEM. */
struct cJSON *denials_entry_json(const struct driver_denial *d, uint64_t seq, int64_t ms);
/* Forgets every entry and counter (driver_exit, tests). */
void denials_reset(void);

/* denylog.c: reading the kernel's records (libnetfilter_log) in a thread of its own */
/*
 * Binds POLICY_NFLOG_GROUP and starts the reader.  Without it the daemon still enforces the
 * policy; only the log stays empty (logged, and `tiernet log` says so).  Returns 0 or -errno.
 */
int denylog_start(void);
/* Stops the reader and releases every handle; a no-op when it never started. */
void denylog_stop(void);
/* Is the reader bound and running? */
bool denylog_listening(void);
/* Records the kernel could not deliver (socket overrun) since the start. */
uint64_t denylog_lost(void);

/* logcmd.c: `tiernet log` */
int logcmd_main(int argc, char **argv);
void logcmd_usage(FILE *f);

/* caps.c */
/*
 * Keeps CAP_NET_ADMIN and CAP_NET_RAW only (effective and permitted; inheritable and ambient
 * cleared; every other capability removed from the bounding set where CAP_SETPCAP allows)
 * and sets no_new_privs.  Per-thread attributes: call it before any thread is started.
 * Returns 0 or -errno (logged).
 */
int caps_drop(void);

#endif
