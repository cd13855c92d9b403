/*
 * libFuzzer: `tiernet export kubernetes`.  The input's first line is a --cluster-cidr value
 * (k8s_cidr_parse: a range that parses prints back to text that parses to the same range),
 * its first byte also picks the --namespace, and the lines after it are a policy file; a
 * policy that parses is translated by k8s_export in both modes, with and without the range.  What
 * the translator promises: success with YAML and warnings (no control character but newlines,
 * warnings one sentence per line, the same text twice), or a refusal with a printable sentence
 * and no output.
 */
#include <netinet/in.h>

#include "config/config.h"
#include "policy/policy.h"
#include "tests/fuzz/fuzz.h"

/* Only '\n' among the control characters. */
static int lines_printable(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7f)
			return 0;
	return 1;
}

static void check_cidr(const uint8_t *data, size_t size, struct k8s_cidr *c, size_t *nc)
{
	char text[128], err[256], back[K8S_CIDR_TEXT_MAX];
	size_t n = 0;
	struct k8s_cidr again;

	while (n < size && n < sizeof(text) - 1 && data[n] != '\n' && data[n] != '\0')
		n++;
	memcpy(text, data, n);
	text[n] = '\0';
	*nc = 0;
	if (k8s_cidr_parse(text, c, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(err[0] && fuzz_printable(err));
		return;
	}
	FUZZ_ASSERT(c->family == AF_INET || c->family == AF_INET6);
	FUZZ_ASSERT(c->prefix >= 1 && c->prefix <= (c->family == AF_INET ? 32u : 128u));
	FUZZ_ASSERT(k8s_cidr_format(c, back, sizeof(back)) < sizeof(back));
	FUZZ_ASSERT(k8s_cidr_parse(back, &again, err, sizeof(err)) == 0);
	FUZZ_ASSERT(k8s_cidr_equal(c, &again));
	*nc = 1;
}

static void translate(const struct policy *pol, const struct k8s_opts *o)
{
	struct k8s_result a, b;
	int r = k8s_export(pol, o, &a);

	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == -EINVAL) {
		FUZZ_ASSERT(!a.yaml && !a.warnings);
		FUZZ_ASSERT(fuzz_terminated(a.err, sizeof(a.err)) && a.err[0]);
		FUZZ_ASSERT(fuzz_printable(a.err));
		return;
	}
	if (r)
		return;
	FUZZ_ASSERT(a.yaml && a.warnings);
	FUZZ_ASSERT(lines_printable(a.yaml) && lines_printable(a.warnings));
	FUZZ_ASSERT(!a.warnings[0] || a.warnings[strlen(a.warnings) - 1] == '\n');
	FUZZ_ASSERT(k8s_export(pol, o, &b) == 0);
	FUZZ_ASSERT(!strcmp(a.yaml, b.yaml) && !strcmp(a.warnings, b.warnings));
	k8s_result_free(&a);
	k8s_result_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const namespaces[] = { NULL, "shop", "Bad_Name", "kube", "n" };
	struct config_diags diags = { 0 };
	struct policy *pol = NULL;
	struct k8s_cidr cidr;
	struct k8s_opts o = { .source = "fuzz.conf" };
	size_t nc;

	const uint8_t *nl = memchr(data, '\n', size);
	size_t skip = nl ? (size_t)(nl - data) + 1 : size;

	if (!size)
		return 0;
	check_cidr(data, size, &cidr, &nc);
	o.ns = namespaces[data[0] % (sizeof(namespaces) / sizeof(namespaces[0]))];
	if (config_parse("fuzz.conf", (const char *)data + skip, size - skip, &pol, &diags) == 0) {
		o.mode = K8S_NAMESPACES;
		translate(pol, &o);
		o.mode = K8S_LABELS;
		o.cidrs = &cidr;
		o.ncidrs = nc;
		translate(pol, &o);
	}
	policy_free(pol);
	config_diags_free(&diags);
	return 0;
}
