/*
 * Names and address ranges for the Kubernetes export (k8s.c): a tier name as a Kubernetes
 * name, the checks Kubernetes applies to names, and the --cluster-cidr ranges.  Pure.
 *
 * Tier names allow uppercase letters and '_' (config/parse.c); Kubernetes names (namespaces,
 * label values used as tier labels) are DNS-1123 labels: lowercase letters, digits and '-',
 * starting and ending with a letter or digit, at most 63 characters.  The mapping is
 * deterministic and documented (README "More than one host"): lowercase, '_' becomes '-'.
 * A tier name ending in '_' or '-' has no such label and is refused by the caller.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/policy.h"

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool k8s_label_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > K8S_LABEL_MAX || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

int k8s_tier_name(const char *tier, char *buf, size_t len)
{
	size_t i, n = strlen(tier);

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < n && i + 1 < len; i++) {
		char c = tier[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (c == '_')
			c = '-';
		buf[i] = c;
	}
	buf[i] = '\0';
	return i == n && k8s_label_ok(buf) ? 0 : -EINVAL;
}

/* Prefix length of text (all digits, at most max); -1 when it is not one. */
static int parse_prefix(const char *text, unsigned max)
{
	unsigned long v;
	char *end;

	if (text[0] < '0' || text[0] > '9' || strlen(text) > 3)
		return -1;
	v = strtoul(text, &end, 10);
	if (*end || v > max)
		return -1;
	return (int)v;
}

/* The mask of byte i of an address for a prefix length. */
static unsigned char prefix_mask(unsigned prefix, size_t i)
{
	unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;

	return (unsigned char)(keep ? (0xffu << (8 - keep)) & 0xffu : 0);
}

/* Clears the bits past the prefix; returns whether any was set. */
static bool clear_host_bits(unsigned char *addr, size_t bytes, unsigned prefix)
{
	bool set = false;
	size_t i;

	for (i = 0; i < bytes; i++) {
		unsigned char m = prefix_mask(prefix, i);

		set |= (addr[i] & (unsigned char)~m) != 0;
		addr[i] &= m;
	}
	return set;
}

/* Control characters in a quoted value would reach the user's terminal: show them as '?'. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int cidr_parse(const char *text, struct k8s_cidr *out, char *err, size_t len)
{
	char addr[INET6_ADDRSTRLEN + 8], canon[K8S_CIDR_TEXT_MAX];
	const char *slash = strchr(text, '/');
	size_t bytes;
	int prefix;

	memset(out, 0, sizeof(*out));
	if (!slash || (size_t)(slash - text) >= sizeof(addr)) {
		snprintf(err, len,
			 "--cluster-cidr \"%.64s\" is not an address range: write ADDRESS/PREFIX, "
			 "e.g. 10.244.0.0/16",
			 text);
		return -EINVAL;
	}
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - text), text);
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		bytes = 4;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		bytes = 16;
	} else {
		snprintf(err, len,
			 "--cluster-cidr \"%.64s\": \"%s\" is not an IPv4 or IPv6 address", text,
			 addr);
		return -EINVAL;
	}
	prefix = parse_prefix(slash + 1, (unsigned)bytes * 8);
	/* An except entry must be strictly inside 0.0.0.0/0 or ::/0: /0 leaves no world. */
	if (prefix <= 0) {
		snprintf(err, len,
			 "--cluster-cidr \"%.64s\": the prefix must be a number from 1 to %zu",
			 text, bytes * 8);
		return -EINVAL;
	}
	out->prefix = (unsigned)prefix;
	if (clear_host_bits(out->addr, bytes, out->prefix)) {
		k8s_cidr_format(out, canon, sizeof(canon));
		snprintf(err, len,
			 "--cluster-cidr \"%.64s\" has bits set after the prefix: did you mean %s?",
			 text, canon);
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

int k8s_cidr_parse(const char *text, struct k8s_cidr *out, char *err, size_t len)
{
	int r = cidr_parse(text, out, err, len);

	if (r && len)
		sanitize(err);
	return r;
}

size_t k8s_cidr_format(const struct k8s_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	return (size_t)snprintf(buf, len, "%s/%u", a, c->prefix);
}

bool k8s_cidr_equal(const struct k8s_cidr *a, const struct k8s_cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}
