/*
 * HTTP on the plugin's Unix socket, served by libmicrohttpd.  dockerd keeps connections
 * alive and sends overlapping calls on parallel connections (PROTOCOL.md §1.1), so each
 * connection gets its own thread; the driver serialises what must be serialised.  We bind
 * the socket ourselves (MHD_OPTION_LISTEN_SOCKET) because libmicrohttpd only binds TCP.
 *
 * Only root is answered, on every path: dockerd and `tiernet status` run as root.  The
 * socket's mode 0600 already keeps others out; the peer's credentials (SO_PEERCRED, taken
 * by the kernel at connect time) are checked too, so that a socket made reachable by a
 * careless chmod or a bind mount still serves nobody else.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/text.h"
#include "plugin/plugin.h"

struct request {
	char *body;
	size_t len, cap;
	bool too_large;
};

static struct MHD_Daemon *server_daemon;
static char server_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static enum MHD_Result send_reply(struct MHD_Connection *conn, unsigned status, char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, PLUGIN_CONTENT_TYPE);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_err(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char *body = proto_encode_err(msg);

	return body ? send_reply(conn, status, body) : MHD_NO;
}

static int body_append(struct request *req, const char *data, size_t n)
{
	size_t ncap;
	char *p;

	if (req->too_large || req->len + n > PLUGIN_BODY_MAX) {
		req->too_large = true;
		return 0;
	}
	if (req->len + n + 1 > req->cap) {
		ncap = req->cap ? req->cap : 1024;
		while (ncap < req->len + n + 1)
			ncap *= 2;
		p = realloc(req->body, ncap);
		if (!p)
			return -ENOMEM;
		req->body = p;
		req->cap = ncap;
	}
	memcpy(req->body + req->len, data, n);
	req->len += n;
	req->body[req->len] = '\0';
	return 0;
}

/*
 * The uid of the process at the other end of the connection (SO_PEERCRED), or -1 when it
 * cannot be known: then the caller is refused, like any non-root one.
 */
static long peer_uid(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    len != sizeof(cred))
		return -1;
	return (long)cred.uid;
}

/* Refuses a caller that is not root, before any of its body is read. */
static enum MHD_Result refuse_peer(struct MHD_Connection *conn, const char *url, long uid)
{
	char msg[160], u[65];

	if (uid < 0)
		snprintf(msg, sizeof(msg),
			 "tiernet: the caller's credentials cannot be read; "
			 "only root may call the plugin");
	else
		snprintf(msg, sizeof(msg),
			 "tiernet: only root may call the plugin (the caller "
			 "runs as uid %ld)",
			 uid);
	log_warnx("%s: refused: %s", text_shown(url, u, sizeof(u)), msg + strlen("tiernet: "));
	return send_err(conn, MHD_HTTP_FORBIDDEN, msg);
}

/* 413 for a body over PLUGIN_BODY_MAX: nothing of it is kept. */
static enum MHD_Result refuse_large(struct MHD_Connection *conn, const char *url)
{
	char msg[128], u[65];

	snprintf(msg, sizeof(msg), "tiernet: request body larger than %d bytes refused",
		 PLUGIN_BODY_MAX);
	log_warnx("%s: %s", text_shown(url, u, sizeof(u)), msg);
	return send_err(conn, 413, msg); /* Content Too Large */
}

/* A Content-Length over PLUGIN_BODY_MAX: refused before the body is read. */
static bool announced_large(struct MHD_Connection *conn)
{
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long v;
	char *end;

	if (!cl)
		return false;
	errno = 0;
	v = strtoull(cl, &end, 10);
	return end != cl && (errno == ERANGE || v > PLUGIN_BODY_MAX);
}

static void *conn_ctx(struct MHD_Connection *conn);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct request *req = *con_cls;
	struct route_reply out;
	void *ctx;
	int r;

	(void)cls, (void)version;
	if (!req) {
		long uid = peer_uid(conn);

		if (uid != 0)
			return refuse_peer(conn, url, uid);
		if (announced_large(conn))
			return refuse_large(conn, url);
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		return MHD_YES;
	}
	if (*data_size) {
		if (body_append(req, data, *data_size) < 0)
			return MHD_NO;
		*data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) && strcmp(method, MHD_HTTP_METHOD_GET))
		return send_err(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				"tiernet: only POST requests are served");
	if (req->too_large) /* chunked: no Content-Length to refuse it early */
		return refuse_large(conn, url);
	ctx = conn_ctx(conn);
	conns_busy(ctx, true);
	r = route_handle(url, req->body ? req->body : "", req->len, &out);
	conns_busy(ctx, false);
	if (r < 0)
		return MHD_NO;
	return send_reply(conn, out.status, out.body);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;

	(void)cls, (void)toe;
	if (req)
		free(req->body);
	free(req);
	*con_cls = NULL;
	conns_done(conn_ctx(conn));
}

/* The connection's entry in conns.c (its socket context), or NULL. */
static void *conn_ctx(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;

	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci ? conns_started(ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		conns_closed(*socket_context);
		*socket_context = NULL;
	}
}

/* Called when a request line has arrived: the request is under way from here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls, (void)uri;
	conns_request(conn_ctx(conn));
	return NULL;
}

static int mkdir_parents(const char *path)
{
	char dir[sizeof(server_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A socket file nobody accepts on is stale; one that accepts belongs to a live tiernet. */
static int remove_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int bind_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("socket path \"%s\" is longer than %zu characters; choose a shorter "
			  "--socket",
			  path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = mkdir_parents(path);
	if (r < 0) {
		log_error("cannot create the directory of socket %s: %s", path, strerror(-r));
		return r;
	}
	r = remove_stale(&sa);
	if (r == -EADDRINUSE)
		log_error("another process serves %s already; stop it first", path);
	else if (r == -EEXIST)
		log_error("%s exists and is not a socket; remove it or choose another --socket",
			  path);
	else if (r < 0)
		log_error("cannot replace the stale socket %s: %s", path, strerror(-r));
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r == 0)
		r = chmod(path, 0600);
	if (r == 0)
		r = listen(fd, 128);
	if (r < 0) {
		r = -errno;
		log_error("cannot listen on %s: %s", path, strerror(-r));
		close(fd);
		unlink(path);
		return r;
	}
	return fd;
}

int server_start(const char *path)
{
	int fd = bind_socket(path), r;

	if (fd < 0)
		return fd;
	snprintf(server_path, sizeof(server_path), "%s", path);
	/*
	 * A thread per connection: a driver call may wait seconds (the xtables lock), and it
	 * must not hold up calls on other connections.  conns.c bounds what connections cost.
	 * MHD_USE_ITC lets server_stop() stop accepting while requests under way finish.
	 */
	r = conns_start();
	if (r < 0) {
		log_error("cannot start the connection reaper: %s", strerror(-r));
		close(fd);
		unlink(path);
		return r;
	}
	server_daemon =
	    MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				 MHD_USE_POLL | MHD_USE_ITC,
			     0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
			     MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_CONNECTION_LIMIT,
			     (unsigned)CONNS_MAX + 64, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned)CONNS_IDLE_S, MHD_OPTION_THREAD_STACK_SIZE,
			     (size_t)(512 * 1024), MHD_OPTION_END);
	if (!server_daemon) {
		log_error("cannot start the HTTP server on %s", path);
		conns_stop();
		close(fd);
		unlink(path);
		return -EIO;
	}
	log_info("serving on %s", path);
	return 0;
}

/*
 * The connections still in the listening socket's backlog when it stops: with the name
 * unlinked first no new one can arrive, but these were made, and their clients may have sent
 * a call already; closing the socket would reset them, a call cut after it was sent.  They
 * are accepted and handed to libmicrohttpd, so conns_drain gives them their time; it is
 * told of each (conns_expect), since libmicrohttpd starts serving them later, in its own
 * thread, and a drain that ended before would see them closed unserved.
 */
static void adopt_backlog(MHD_socket lfd)
{
	int fd, fl = fcntl(lfd, F_GETFL);

	if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) < 0)
		return;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		struct sockaddr_un peer = { .sun_family = AF_UNIX };

		if (conns_expect(fd) < 0)
			log_warnx("out of memory: a connection made just before the stop may be "
				  "closed unserved; its client must call again");
		if (MHD_add_connection(server_daemon, fd, (const struct sockaddr *)&peer,
				       sizeof(peer)) != MHD_YES) {
			conns_unexpect(fd);
			log_warnx("a connection made just before the stop could not be served; "
				  "its client must call again");
		}
	}
}

/*
 * For an upgrade or a restart: the name goes first (a new tiernet can bind it while this
 * one finishes), no new connection is accepted, idle ones are closed at once, and the calls
 * under way get SERVER_DRAIN_S seconds to finish and answer, so none is cut half done.
 */
void server_stop(void)
{
	MHD_socket lfd;
	size_t left;

	if (!server_daemon)
		return;
	unlink(server_path);
	lfd = MHD_quiesce_daemon(server_daemon);
	if (lfd != MHD_INVALID_SOCKET) {
		adopt_backlog(lfd);
		close(lfd);
	}
	left = conns_drain(SERVER_DRAIN_S);
	if (left)
		log_warnx("%zu call(s) still under way after %d s: stopping anyway", left,
			  SERVER_DRAIN_S);
	MHD_stop_daemon(server_daemon);
	conns_stop();
	server_daemon = NULL;
}
