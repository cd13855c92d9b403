/*
 * plugin/: the remote-driver protocol on a Unix socket.  proto.c turns request bodies into
 * driver requests and driver replies into JSON; routes.c maps each path to its handler;
 * server.c runs libmicrohttpd; main.c has the commands, start-up, signals and shutdown.
 */
#ifndef TIERNET_PLUGIN_H
#define TIERNET_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>

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
/* Stops serving and removes the socket. */
void server_stop(void);

/* caps.c */
/*
 * Keeps CAP_NET_ADMIN and CAP_NET_RAW only (effective and permitted; inheritable and ambient
 * cleared; every other capability removed from the bounding set where CAP_SETPCAP allows)
 * and sets no_new_privs.  Per-thread attributes: call it before any thread is started.
 * Returns 0 or -errno (logged).
 */
int caps_drop(void);

#endif
