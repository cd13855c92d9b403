/*
 * A minimal HTTP/1.0 client for the daemon's admin routes, over its Unix socket (root-only,
 * mode 0600).  One request per connection; the daemon closes it after the answer.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "plugin/why.h"

static int dial(const char *path, struct err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(err, ENAMETOOLONG,
			       "tiernet: the socket path \"%.200s\" is too long (at most %zu "
			       "characters)",
			       path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	if (fd >= 0)
		close(fd);
	return err_set(err, e,
		       "tiernet: cannot reach the tiernet daemon on %.200s: %s (is `tiernet "
		       "serve` running? --socket PATH names another socket)",
		       path, strerror(e));
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && errno ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the daemon closes; *out malloc'ed and NUL-terminated. */
static int read_all(int fd, char **out)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	do {
		if (len + 4096 + 1 > cap) {
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0) {
		n = errno ? errno : EIO;
		free(buf);
		return (int)-n;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* The body of a 200 answer, or the daemon's {"Err": ...} sentence in err. */
static int answer(char *buf, char **reply, struct err *err)
{
	char *body = buf ? strstr(buf, "\r\n\r\n") : NULL;
	const char *msg;
	cJSON *o;
	int r = 0;

	if (!buf)
		return err_set(err, EIO, "tiernet: no answer from the daemon");
	if (!body || strncmp(buf, "HTTP/1.", 7) || strlen(buf) < 12 || strncmp(buf + 9, "200", 3))
		return err_set(err, EPROTO, "tiernet: unexpected answer from the daemon: %.200s",
			       buf);
	body += 4;
	o = cJSON_Parse(body);
	msg = cJSON_GetStringValue(cJSON_GetObjectItem(o, "Err"));
	if (msg)
		r = err_set(err, EPROTO, "%s", msg);
	cJSON_Delete(o);
	if (!r) {
		*reply = strdup(body);
		if (!*reply)
			r = err_set(err, ENOMEM, "tiernet: out of memory");
	}
	return r;
}

int client_call(const char *socket, const char *path, const char *body, char **reply,
		struct err *err)
{
	char head[256], *buf = NULL;
	int fd, r;

	*reply = NULL;
	fd = dial(socket, err);
	if (fd < 0)
		return fd;
	snprintf(head, sizeof(head),
		 "POST %s HTTP/1.0\r\nHost: tiernet\r\nContent-Length: %zu\r\n\r\n", path,
		 strlen(body));
	r = send_all(fd, head, strlen(head));
	if (!r)
		r = send_all(fd, body, strlen(body));
	if (r) {
		r = err_set(err, -r, "tiernet: cannot send to %.200s: %s", socket, strerror(-r));
		goto out;
	}
	r = read_all(fd, &buf);
	if (r) {
		r = err_set(err, -r, "tiernet: cannot read the answer from %.200s: %s", socket,
			    strerror(-r));
		goto out;
	}
	r = answer(buf, reply, err);
out:
	free(buf);
	close(fd);
	return r;
}
