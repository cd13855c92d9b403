/*
 * The policy file parser.  A line parser in the shape of wireguard-tools src/config.c, with
 * the habits of openbsd relayd parse.y (count every error and keep going, a sorted keyword
 * table, a token length cap, checks that need the whole file done at the end) and the output
 * of nftables src/erec.c (file:line:column, the line, a caret under the offending token).
 *
 *	tier NAME [internal] [isolated] [audit]
 *	allow SRC -> DST [PROTO/PORT[-PORT], ...]
 *	audit
 *
 * Tiers may be used before their tier line, so allow lines are kept as tokens and resolved
 * by finish() once every line has been read.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "lib/text.h"
#include "policy/policy.h"

#define LINE_LEN_MAX	4096 /* characters in one line (64 port items need about 1100) */
#define LINE_TOKENS_MAX 256  /* words on one line */
#define ERRORS_MAX	100  /* diagnostics kept from one file; further errors are counted */

/* A line of the source text (not NUL-terminated); no is 1-based. */
struct srcline {
	const char *s;
	size_t len;
	unsigned no;
};

/* A word of a line: points into the source text. */
struct token {
	const char *s;
	size_t len;
};

/* An allow line, kept until the whole file has been read. */
struct allow {
	struct srcline line;
	struct token src, dst;
	struct policy_port *ports;
	size_t nports;
	bool resolved;
	int isrc, idst; /* tier indexes or POLICY_WORLD / POLICY_HOST, once resolved */
};

struct parser {
	const char *file;
	struct config_diags *diags;
	size_t nerrors;
	int err; /* -ENOMEM once an allocation failed */
	struct srcline line;
	struct token tok[LINE_TOKENS_MAX];
	size_t ntok;
	struct policy *pol;
	size_t tiers_cap;
	struct allow *allows;
	size_t nallows, allows_cap;
};

struct keyword {
	const char *name;
	void (*parse)(struct parser *p);
};

/* ---------------------------------------------------------------------------------------
 * Diagnostics
 */

static void diag_text(struct config_diag *d, const struct srcline *l)
{
	size_t n = l->len < sizeof(d->text) - 1 ? l->len : sizeof(d->text) - 1;

	n = strnlen(l->s, n);
	memcpy(d->text, l->s, n);
	d->text[n] = '\0';
	if (n && d->text[n - 1] == '\r')
		d->text[n - 1] = '\0';
	/* control characters would garble a terminal; tabs stay, for alignment */
	text_sanitize(d->text, true);
}

/* Appends a diag; l NULL means a file-level problem (line 0).  Returns 0 or -ENOMEM. */
__attribute__((format(printf, 6, 0))) static int diag_vadd(struct config_diags *ds,
							   const char *file,
							   const struct srcline *l, size_t col,
							   size_t span, const char *fmt, va_list ap)
{
	struct config_diag *d;
	void *v;

	if (ds->n == ds->cap) {
		v = reallocarray(ds->v, ds->cap ? ds->cap * 2 : 8, sizeof(*ds->v));
		if (!v)
			return -ENOMEM;
		ds->v = v;
		ds->cap = ds->cap ? ds->cap * 2 : 8;
	}
	d = &ds->v[ds->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->file, sizeof(d->file), "%s", file);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	text_sanitize(d->message, true);
	d->span = span ? (unsigned)span : 1;
	if (!l)
		return 0;
	d->line = l->no;
	d->column = (unsigned)col;
	diag_text(d, l);
	return 0;
}

/* Appends a file-level diag; returns ret, or -ENOMEM when the diag could not be added. */
__attribute__((format(printf, 4, 5))) static int file_error(struct config_diags *ds, int ret,
							    const char *file, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = diag_vadd(ds, file, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return r ? r : ret;
}

__attribute__((format(printf, 5, 0))) static void error_v(struct parser *p, const struct srcline *l,
							  size_t col, size_t span, const char *fmt,
							  va_list ap)
{
	if (++p->nerrors > ERRORS_MAX || p->err)
		return;
	p->err = diag_vadd(p->diags, p->file, l, col, span, fmt, ap);
}

/* Reports an error at column col of line l. */
__attribute__((format(printf, 5, 6))) static void
error_at(struct parser *p, const struct srcline *l, size_t col, size_t span, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(p, l, col, span, fmt, ap);
	va_end(ap);
}

/* Reports an error under token t of line l. */
__attribute__((format(printf, 4, 5))) static void
error_tok(struct parser *p, const struct srcline *l, const struct token *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(p, l, (size_t)(t->s - l->s) + 1, t->len, fmt, ap);
	va_end(ap);
}

/* Reports something missing just after token t of the current line. */
__attribute__((format(printf, 3, 4))) static void
error_after(struct parser *p, const struct token *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(p, &p->line, (size_t)(t->s - p->line.s) + t->len + 1, 1, fmt, ap);
	va_end(ap);
}

/* Reports a problem with the file as a whole. */
__attribute__((format(printf, 2, 3))) static void error_file(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(p, NULL, 0, 0, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------------------------------
 * Lines and words
 */

static bool tok_is(const struct token *t, const char *s)
{
	return t->len == strlen(s) && !memcmp(t->s, s, t->len);
}

static bool tok_punct(const struct token *t)
{
	return tok_is(t, "->") || tok_is(t, ",");
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_arrow(const char *s, const char *end)
{
	return s + 1 < end && s[0] == '-' && s[1] == '>';
}

static bool word_end(const char *s, const char *end)
{
	return s == end || is_blank(*s) || *s == '#' || *s == ',' || is_arrow(s, end);
}

static bool add_token(struct parser *p, const char *s, size_t len)
{
	struct token t = { .s = s, .len = len };

	if (len > CONFIG_TOKEN_MAX) {
		error_tok(p, &p->line, &t,
			  "word \"%.20s...\" is too long (%zu characters, at most %d)", s, len,
			  CONFIG_TOKEN_MAX);
		return false;
	}
	if (p->ntok == LINE_TOKENS_MAX) {
		error_tok(p, &p->line, &t, "too many words on one line (at most %d)",
			  LINE_TOKENS_MAX);
		return false;
	}
	p->tok[p->ntok++] = t;
	return true;
}

/* Splits the current line into words, "->" and ","; '#' starts a comment. */
static bool tokenize(struct parser *p)
{
	const char *s = p->line.s, *end = s + p->line.len, *w;

	p->ntok = 0;
	for (;;) {
		while (s < end && is_blank(*s))
			s++;
		if (s == end || *s == '#')
			return true;
		w = s;
		if (*s == ',')
			s++;
		else if (is_arrow(s, end))
			s += 2;
		else
			do
				s++;
			while (!word_end(s, end));
		if (!add_token(p, w, (size_t)(s - w)))
			return false;
	}
}

/* ---------------------------------------------------------------------------------------
 * tier NAME [internal] [isolated]
 */

static bool is_pseudo(const struct token *t)
{
	return tok_is(t, "world") || tok_is(t, "host");
}

static bool name_syntax_ok(const struct token *t)
{
	size_t i;
	char c;

	for (i = 0; i < t->len; i++) {
		c = t->s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			continue;
		if (i && ((c >= '0' && c <= '9') || c == '_' || c == '-'))
			continue;
		return false;
	}
	return t->len > 0;
}

/* Index of the tier called t, or -1. */
static int tier_lookup(const struct policy *pol, const struct token *t)
{
	char name[CONFIG_TOKEN_MAX + 1];
	int i;

	snprintf(name, sizeof(name), "%.*s", (int)t->len, t->s);
	i = policy_tier_find(pol, name);
	return i < 0 ? -1 : i;
}

static bool check_tier_name(struct parser *p, const struct token *t)
{
	const struct srcline *l = &p->line;
	int dup;

	if (is_pseudo(t)) {
		error_tok(p, l, t,
			  "\"%.*s\" is a pseudo-tier and cannot be declared: choose another name",
			  (int)t->len, t->s);
		return false;
	}
	if (!name_syntax_ok(t)) {
		error_tok(p, l, t,
			  "bad tier name \"%.*s\": use a letter, then letters, digits, '_' or '-'",
			  (int)t->len, t->s);
		return false;
	}
	if (t->len > POLICY_TIER_LEN) {
		error_tok(p, l, t, "tier name \"%.*s\" is too long (%zu characters, at most %d)",
			  (int)t->len, t->s, t->len, POLICY_TIER_LEN);
		return false;
	}
	dup = tier_lookup(p->pol, t);
	if (dup >= 0) {
		error_tok(p, l, t, "duplicate tier \"%.*s\" (first declared on line %u)",
			  (int)t->len, t->s, p->pol->tiers[dup].line);
		return false;
	}
	if (p->pol->ntiers == POLICY_TIERS_MAX) {
		error_tok(p, l, t, "too many tiers (at most %d)", POLICY_TIERS_MAX);
		return false;
	}
	return true;
}

static bool *tier_flag(struct policy_tier *t, const struct token *tok)
{
	if (tok_is(tok, "internal"))
		return &t->internal;
	if (tok_is(tok, "isolated"))
		return &t->isolated;
	if (tok_is(tok, "audit"))
		return &t->audit;
	return NULL;
}

static void parse_flags(struct parser *p, struct policy_tier *t)
{
	const struct token *tok;
	size_t i;
	bool *flag;

	for (i = 2; i < p->ntok; i++) {
		tok = &p->tok[i];
		flag = tier_flag(t, tok);
		if (!flag)
			error_tok(p, &p->line, tok,
				  "unknown flag \"%.*s\" for tier \"%.*s\": use internal, "
				  "isolated or audit",
				  (int)tok->len, tok->s, (int)p->tok[1].len, p->tok[1].s);
		else if (*flag)
			error_tok(p, &p->line, tok, "duplicate flag \"%.*s\"", (int)tok->len,
				  tok->s);
		else
			*flag = true;
	}
}

static void add_tier(struct parser *p, const struct policy_tier *t)
{
	struct policy *pol = p->pol;
	void *v;

	if (pol->ntiers == p->tiers_cap) {
		v = reallocarray(pol->tiers, p->tiers_cap ? p->tiers_cap * 2 : 8, sizeof(*t));
		if (!v) {
			p->err = -ENOMEM;
			return;
		}
		pol->tiers = v;
		p->tiers_cap = p->tiers_cap ? p->tiers_cap * 2 : 8;
	}
	pol->tiers[pol->ntiers++] = *t;
}

static void parse_tier(struct parser *p)
{
	struct policy_tier t;
	bool ok;

	if (p->ntok < 2) {
		error_after(p, &p->tok[0],
			    "missing tier name: write \"tier NAME [internal] [isolated] [audit]\"");
		return;
	}
	memset(&t, 0, sizeof(t));
	t.line = p->line.no;
	ok = check_tier_name(p, &p->tok[1]);
	parse_flags(p, &t);
	if (!ok)
		return;
	snprintf(t.name, sizeof(t.name), "%.*s", (int)p->tok[1].len, p->tok[1].s);
	add_tier(p, &t);
}

/* ---------------------------------------------------------------------------------------
 * allow SRC -> DST [PROTO/PORT[-PORT], ...]
 */

static bool parse_number(const struct token *t, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (!t->len || t->len > 5)
		return false;
	for (i = 0; i < t->len; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(t->s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool parse_proto(struct parser *p, const struct token *t, uint8_t *proto)
{
	if (tok_is(t, "tcp"))
		*proto = IPPROTO_TCP;
	else if (tok_is(t, "udp"))
		*proto = IPPROTO_UDP;
	else
		error_tok(p, &p->line, t, "unknown protocol \"%.*s\": use tcp or udp", (int)t->len,
			  t->s);
	return *proto != 0;
}

/* "LO" or "LO-HI" */
static bool parse_range(struct parser *p, const struct token *t, struct policy_port *port)
{
	const char *dash = memchr(t->s, '-', t->len);
	struct token lo = { t->s, dash ? (size_t)(dash - t->s) : t->len };
	struct token hi = { dash ? dash + 1 : t->s, dash ? t->len - lo.len - 1 : t->len };
	const struct token *bad = NULL;

	if (!parse_number(&lo, &port->lo))
		bad = &lo;
	else if (!parse_number(&hi, &port->hi))
		bad = &hi;
	if (bad && bad->len) {
		error_tok(p, &p->line, bad, "bad port \"%.*s\": use a number from 1 to 65535",
			  (int)bad->len, bad->s);
		return false;
	}
	if (bad) {
		error_tok(p, &p->line, t, "bad port range \"%.*s\": write LO-HI, e.g. 9000-9100",
			  (int)t->len, t->s);
		return false;
	}
	if (port->lo > port->hi) {
		error_tok(p, &p->line, t,
			  "bad port range \"%.*s\": %u is greater than %u, write the lower port "
			  "first",
			  (int)t->len, t->s, port->lo, port->hi);
		return false;
	}
	return true;
}

/* One "PROTO/PORT" or "PROTO/LO-HI" item. */
static bool parse_port(struct parser *p, const struct token *t, struct policy_port *port)
{
	const char *slash = memchr(t->s, '/', t->len);
	struct token proto, range;

	if (!slash || slash == t->s || slash == t->s + t->len - 1) {
		error_tok(p, &p->line, t,
			  "bad port \"%.*s\": write PROTO/PORT or PROTO/LO-HI, e.g. tcp/8080 or "
			  "udp/9000-9100",
			  (int)t->len, t->s);
		return false;
	}
	proto = (struct token){ t->s, (size_t)(slash - t->s) };
	range = (struct token){ slash + 1, t->len - proto.len - 1 };
	memset(port, 0, sizeof(*port));
	return parse_proto(p, &proto, &port->proto) && parse_range(p, &range, port);
}

/* Tokens 4.. of an allow line: items separated by ",". */
static bool parse_ports(struct parser *p, struct allow *a)
{
	struct policy_port ports[POLICY_PORTS_MAX];
	size_t i, n = 0;

	for (i = 4; i < p->ntok; i += 2) {
		if (n == POLICY_PORTS_MAX) {
			error_tok(p, &p->line, &p->tok[i],
				  "too many ports on one line (at most %d)", POLICY_PORTS_MAX);
			return false;
		}
		if (!parse_port(p, &p->tok[i], &ports[n++]))
			return false;
		if (i + 1 == p->ntok)
			break;
		if (!tok_is(&p->tok[i + 1], ",")) {
			error_tok(p, &p->line, &p->tok[i + 1], "expected \",\" before \"%.*s\"",
				  (int)p->tok[i + 1].len, p->tok[i + 1].s);
			return false;
		}
		if (i + 2 == p->ntok) {
			error_after(p, &p->tok[i + 1], "missing port after \",\"");
			return false;
		}
	}
	if (!n)
		return true;
	a->ports = calloc(n, sizeof(*a->ports));
	if (!a->ports) {
		p->err = -ENOMEM;
		return false;
	}
	memcpy(a->ports, ports, n * sizeof(*a->ports));
	a->nports = n;
	return true;
}

/* Tokens 1..3 of an allow line: SRC -> DST. */
static bool parse_pair(struct parser *p, struct allow *a)
{
	const struct token *t = p->tok;

	if (p->ntok < 2) {
		error_after(p, &t[0], "missing source tier: write \"allow SRC -> DST [PORTS]\"");
		return false;
	}
	if (tok_punct(&t[1])) {
		error_tok(p, &p->line, &t[1], "expected a source tier, found \"%.*s\"",
			  (int)t[1].len, t[1].s);
		return false;
	}
	if (p->ntok < 3) {
		error_after(p, &t[1], "missing \"->\" after \"%.*s\"", (int)t[1].len, t[1].s);
		return false;
	}
	if (!tok_is(&t[2], "->")) {
		error_tok(p, &p->line, &t[2], "expected \"->\" after \"%.*s\", found \"%.*s\"",
			  (int)t[1].len, t[1].s, (int)t[2].len, t[2].s);
		return false;
	}
	if (p->ntok < 4 || tok_punct(&t[3])) {
		error_after(p, &t[2], "missing destination tier after \"->\"");
		return false;
	}
	a->src = t[1];
	a->dst = t[3];
	return true;
}

static void parse_allow(struct parser *p)
{
	struct allow a;
	void *v;

	memset(&a, 0, sizeof(a));
	a.line = p->line;
	if (!parse_pair(p, &a) || !parse_ports(p, &a))
		return;
	if (p->nallows == POLICY_EDGES_MAX) {
		error_tok(p, &p->line, &p->tok[0], "too many allow lines (at most %d)",
			  POLICY_EDGES_MAX);
		goto fail;
	}
	if (p->nallows == p->allows_cap) {
		v = reallocarray(p->allows, p->allows_cap ? p->allows_cap * 2 : 16, sizeof(a));
		if (!v) {
			p->err = -ENOMEM;
			goto fail;
		}
		p->allows = v;
		p->allows_cap = p->allows_cap ? p->allows_cap * 2 : 16;
	}
	p->allows[p->nallows++] = a;
	return;
fail:
	free(a.ports);
}

/* ---------------------------------------------------------------------------------------
 * The file
 */

/*
 * audit: the whole policy in audit mode (README "Audit mode"): what it would deny is logged
 * as "would deny" and let through.  One line, no arguments; a tier alone is audited with
 * "tier NAME audit".
 */
static void parse_audit(struct parser *p)
{
	if (p->ntok > 1) {
		error_tok(p, &p->line, &p->tok[1],
			  "\"audit\" takes nothing after it, not \"%.*s\": write \"audit\" alone "
			  "to audit the whole policy, or \"tier NAME audit\" for one tier",
			  (int)p->tok[1].len, p->tok[1].s);
		return;
	}
	if (p->pol->audit) {
		error_tok(p, &p->line, &p->tok[0],
			  "duplicate \"audit\" (first on line %u): remove this line",
			  p->pol->audit_line);
		return;
	}
	p->pol->audit = true;
	p->pol->audit_line = p->line.no;
}

static const struct keyword keywords[] = {
	/* sorted, for bsearch */
	{ "allow", parse_allow },
	{ "audit", parse_audit },
	{ "tier", parse_tier },
};

static int keyword_cmp(const void *key, const void *elem)
{
	const struct token *t = key;
	const struct keyword *k = elem;
	int c = strncmp(t->s, k->name, t->len);

	if (c)
		return c;
	return k->name[t->len] ? -1 : 0;
}

static void parse_line(struct parser *p)
{
	const struct keyword *k;
	const char *nul;

	if (p->line.len > LINE_LEN_MAX) {
		error_at(p, &p->line, LINE_LEN_MAX + 1, 1,
			 "line is too long (%zu characters, at most %d)", p->line.len,
			 LINE_LEN_MAX);
		return;
	}
	nul = memchr(p->line.s, '\0', p->line.len);
	if (nul) {
		error_at(p, &p->line, (size_t)(nul - p->line.s) + 1, 1,
			 "NUL byte: a policy file is text");
		return;
	}
	if (!tokenize(p) || !p->ntok)
		return;
	k = bsearch(&p->tok[0], keywords, sizeof(keywords) / sizeof(keywords[0]),
		    sizeof(keywords[0]), keyword_cmp);
	if (!k) {
		error_tok(p, &p->line, &p->tok[0],
			  "unknown keyword \"%.*s\": a line starts with \"tier\", \"allow\" or "
			  "\"audit\"",
			  (int)p->tok[0].len, p->tok[0].s);
		return;
	}
	k->parse(p);
}

static void read_lines(struct parser *p, const char *text, size_t len)
{
	const char *s = text, *end = text + len, *nl;
	unsigned no = 0;

	while (s < end && !p->err) {
		nl = memchr(s, '\n', (size_t)(end - s));
		p->line.s = s;
		p->line.len = (size_t)((nl ? nl : end) - s);
		p->line.no = ++no;
		parse_line(p);
		s = nl ? nl + 1 : end;
	}
}

/* ---------------------------------------------------------------------------------------
 * Checks that need the whole file
 */

static bool resolve_one(struct parser *p, const struct allow *a, const struct token *t, int *idx)
{
	char list[160];
	size_t n;

	if (tok_is(t, "world") || tok_is(t, "host")) {
		*idx = tok_is(t, "world") ? POLICY_WORLD : POLICY_HOST;
		return true;
	}
	*idx = tier_lookup(p->pol, t);
	if (*idx >= 0)
		return true;
	n = policy_tier_list(p->pol, list, sizeof(list));
	if (n >= sizeof(list))
		memcpy(list + sizeof(list) - 4, "...", 4);
	error_tok(p, &a->line, t, "unknown tier \"%.*s\" (declared: %s)", (int)t->len, t->s, list);
	return false;
}

static void resolve(struct parser *p, struct allow *a)
{
	bool src = resolve_one(p, a, &a->src, &a->isrc);
	bool dst = resolve_one(p, a, &a->dst, &a->idst);

	a->resolved = src && dst;
}

/* Reports an error under "SRC -> DST" of a. */
__attribute__((format(printf, 3, 4))) static void
error_pair(struct parser *p, const struct allow *a, const char *fmt, ...)
{
	struct token t = { a->src.s, (size_t)(a->dst.s - a->src.s) + a->dst.len };
	va_list ap;

	va_start(ap, fmt);
	error_v(p, &a->line, (size_t)(t.s - a->line.s) + 1, t.len, fmt, ap);
	va_end(ap);
}

/* The pseudo-tiers: world only as a source, host only as a destination. */
static bool check_pseudo(struct parser *p, const struct allow *a)
{
	const struct policy_tier *src = a->isrc >= 0 ? &p->pol->tiers[a->isrc] : NULL;

	if (a->isrc < 0 && a->idst < 0) {
		error_pair(p, a,
			   "\"%.*s -> %.*s\" names no tier: one side of an allow line must be a "
			   "tier",
			   (int)a->src.len, a->src.s, (int)a->dst.len, a->dst.s);
	} else if (a->idst == POLICY_WORLD && src && src->internal) {
		error_tok(p, &a->line, &a->dst,
			  "egress to the world is implicit for tiers that are not internal: remove "
			  "this line, or drop \"internal\" from line %u",
			  src->line);
	} else if (a->idst == POLICY_WORLD) {
		error_tok(p, &a->line, &a->dst,
			  "egress to the world is implicit for tiers that are not internal: remove "
			  "this line");
	} else if (a->isrc == POLICY_HOST) {
		error_tok(p, &a->line, &a->src,
			  "the host may always connect to containers: remove this line");
	} else {
		return true;
	}
	return false;
}

static bool check_tiers(struct parser *p, const struct allow *a)
{
	const struct policy_tier *dst = a->idst >= 0 ? &p->pol->tiers[a->idst] : NULL;

	if (!dst) /* T -> host */
		return true;
	if (a->isrc == POLICY_WORLD && dst->internal) {
		error_tok(p, &a->line, &a->dst,
			  "tier \"%s\" is internal: remove this line or drop \"internal\" from "
			  "line %u",
			  dst->name, dst->line);
	} else if (a->isrc == a->idst && !dst->isolated) {
		error_tok(p, &a->line, &a->dst,
			  "tier \"%s\" is not isolated, so its containers already reach each "
			  "other: remove this line, or add \"isolated\" to line %u",
			  dst->name, dst->line);
	} else if (a->isrc == a->idst && !a->nports) {
		error_pair(p, a,
			   "\"%s -> %s\" without ports undoes \"isolated\": list the ports (e.g. "
			   "tcp/5432), or drop \"isolated\" from line %u",
			   dst->name, dst->name, dst->line);
	} else {
		return true;
	}
	return false;
}

static bool check_duplicate(struct parser *p, const struct allow *a)
{
	const struct allow *b;

	for (b = p->allows; b < a; b++) {
		if (!b->resolved || b->isrc != a->isrc || b->idst != a->idst)
			continue;
		error_pair(p, a,
			   "duplicate allow \"%.*s -> %.*s\" (first on line %u): merge the two "
			   "lines",
			   (int)a->src.len, a->src.s, (int)a->dst.len, a->dst.s, b->line.no);
		return false;
	}
	return true;
}

static void add_edge(struct parser *p, struct allow *a)
{
	struct policy_edge *e = &p->pol->edges[p->pol->nedges++];

	e->src = a->isrc;
	e->dst = a->idst;
	e->nports = a->nports;
	e->ports = a->ports;
	e->line = a->line.no;
	a->ports = NULL;
	a->nports = 0;
}

static void finish(struct parser *p)
{
	size_t i;

	if (!p->pol->ntiers) {
		error_file(p, "no tier declared: add a line such as \"tier front\"");
		return;
	}
	p->pol->edges = calloc(p->nallows ? p->nallows : 1, sizeof(*p->pol->edges));
	if (!p->pol->edges) {
		p->err = -ENOMEM;
		return;
	}
	/* By index: with no allow line p->allows is NULL, and NULL + 0 is undefined in C. */
	for (i = 0; i < p->nallows; i++) {
		struct allow *a = &p->allows[i];

		resolve(p, a);
		if (a->resolved && check_pseudo(p, a) && check_tiers(p, a) && check_duplicate(p, a))
			add_edge(p, a);
	}
}

static void parser_free(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->nallows; i++)
		free(p->allows[i].ports);
	free(p->allows);
	policy_free(p->pol);
}

/* The errors beyond ERRORS_MAX are counted, not kept: say how many. */
static int report_dropped(struct parser *p)
{
	if (p->nerrors <= ERRORS_MAX)
		return 0;
	return file_error(p->diags, 0, p->file, "%zu more errors not shown",
			  p->nerrors - ERRORS_MAX);
}

/* Line-level diags first, by line and column (checks after the file come out of order). */
static bool diag_before(const struct config_diag *a, const struct config_diag *b)
{
	if (!a->line != !b->line)
		return a->line != 0;
	return a->line < b->line || (a->line == b->line && a->column < b->column);
}

/* A stable insertion sort of v[0..n): n is at most ERRORS_MAX + 1. */
static void diags_sort(struct config_diag *v, size_t n)
{
	struct config_diag tmp;
	size_t i, j;

	for (i = 1; i < n; i++) {
		tmp = v[i];
		for (j = i; j > 0 && diag_before(&tmp, &v[j - 1]); j--)
			v[j] = v[j - 1];
		v[j] = tmp;
	}
}

int config_parse(const char *name, const char *text, size_t len, struct policy **out,
		 struct config_diags *diags)
{
	struct parser p;
	size_t first;
	int ret;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.file = name;
	p.diags = diags;
	p.pol = calloc(1, sizeof(*p.pol));
	if (!p.pol)
		return -ENOMEM;
	first = diags->n;
	read_lines(&p, text, len);
	if (!p.err)
		finish(&p);
	if (!p.err)
		p.err = report_dropped(&p);
	if (p.diags->n > first) /* p.diags is diags: the parser appended through it */
		diags_sort(p.diags->v + first, p.diags->n - first);
	ret = p.err ? p.err : p.nerrors ? -EINVAL : 0;
	if (!ret) {
		*out = p.pol;
		p.pol = NULL;
	}
	parser_free(&p);
	return ret;
}

/* ---------------------------------------------------------------------------------------
 * Files
 */

/* ---------------------------------------------------------------------------------------
 * Files
 */

static const char *errstr(int err, char *buf, size_t len)
{
	return strerror_r(err, buf, len);
}

/*
 * A file its owner may not read: the daemon reads it as root without CAP_DAC_OVERRIDE (it
 * keeps only CAP_NET_ADMIN and CAP_NET_RAW), so the owner's bits decide.  Refused in every
 * case with one sentence, so that `tiernet check` run by a full root, a start (before the
 * capabilities are dropped) and a reload all say the same.
 */
static int owner_unreadable(const char *file, mode_t mode, struct config_diags *ds)
{
	return file_error(ds, -EACCES, file,
			  "not readable by its owner (mode %04o): tiernet reads it without "
			  "CAP_DAC_OVERRIDE; run \"chmod u+r %s\"",
			  (unsigned)(mode & 07777), file);
}

/* The checks relayd parse.y check_file_secrecy makes, plus the size cap. */
static int check_file(const char *file, const struct stat *st, struct config_diags *ds)
{
	if (!S_ISREG(st->st_mode))
		return file_error(ds, -EINVAL, file, "not a regular file");
	if (!(st->st_mode & S_IRUSR))
		return owner_unreadable(file, st->st_mode, ds);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return file_error(ds, -EPERM, file,
				  "writable by group or others, refused: run \"chmod go-w %s\"",
				  file);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return file_error(ds, -EPERM, file,
				  "owned by uid %u, neither root nor uid %u: refused",
				  (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_size > CONFIG_FILE_MAX)
		return file_error(ds, -EFBIG, file, "too big (%lld bytes, at most %d)",
				  (long long)st->st_size, CONFIG_FILE_MAX);
	return 0;
}

/* Reads at most CONFIG_FILE_MAX bytes of fd into a malloc'ed *buf (the file may grow). */
static int read_all(int fd, const char *file, char **buf, size_t *len, struct config_diags *ds)
{
	char *b, e[128];
	ssize_t n = 0;
	size_t pos = 0;
	int ret = 0;

	b = malloc(CONFIG_FILE_MAX + 1);
	if (!b)
		return -ENOMEM;
	while (pos <= CONFIG_FILE_MAX) {
		n = read(fd, b + pos, CONFIG_FILE_MAX + 1 - pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		pos += (size_t)n;
	}
	if (n < 0)
		ret = file_error(ds, -errno, file, "cannot read: %s", errstr(errno, e, sizeof(e)));
	else if (pos > CONFIG_FILE_MAX)
		ret = file_error(ds, -EFBIG, file, "too big (more than %d bytes)", CONFIG_FILE_MAX);
	if (ret)
		goto fail;
	*buf = b;
	*len = pos;
	return 0;
fail:
	free(b);
	return ret;
}

static int read_fd(int fd, const char *file, char **text, size_t *len, struct config_diags *ds)
{
	struct stat st;
	char e[128];
	int ret;

	if (fstat(fd, &st))
		return file_error(ds, -errno, file, "cannot stat: %s", errstr(errno, e, sizeof(e)));
	ret = check_file(file, &st, ds);
	if (!ret)
		ret = read_all(fd, file, text, len, ds);
	if (!ret)
		(*text)[*len] = '\0';
	return ret;
}

int config_read(const char *path, char **text, size_t *len, struct config_diags *diags)
{
	const char *file = path ? path : CONFIG_DEFAULT_PATH;
	struct stat st;
	char e[128];
	int fd, ret;

	*text = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO must not hang the daemon; check_file refuses it. */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && !path)
		return -ENOENT;
	if (fd < 0 && errno == EACCES && stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
	    !(st.st_mode & S_IRUSR))
		return owner_unreadable(file, st.st_mode, diags);
	if (fd < 0)
		return file_error(diags, -errno, file, "cannot open: %s",
				  errstr(errno, e, sizeof(e)));
	ret = read_fd(fd, file, text, len, diags);
	close(fd);
	return ret;
}

int config_load(const char *path, struct policy **out, struct config_diags *diags)
{
	char *text;
	size_t len;
	int ret;

	*out = NULL;
	ret = config_read(path, &text, &len, diags);
	if (ret == -ENOENT && !path)
		return config_parse(CONFIG_EMBEDDED_NAME, config_default_text,
				    strlen(config_default_text), out, diags);
	if (!ret)
		ret = config_parse(path ? path : CONFIG_DEFAULT_PATH, text, len, out, diags);
	free(text);
	return ret;
}

/* ---------------------------------------------------------------------------------------
 * Printing
 */

/* The caret is shown where it can be placed: not past a line that was cut to fit d->text. */
static bool caret_visible(const struct config_diag *d)
{
	size_t len = strlen(d->text);

	if (!d->column)
		return false;
	if (len == sizeof(d->text) - 1)
		return d->column - 1 < len;
	return d->column - 1 <= len;
}

static void diag_write(const struct config_diag *d, FILE *f)
{
	size_t i, col, span, len = strlen(d->text);

	if (!d->line) {
		fprintf(f, "%s: error: %s\n", d->file, d->message);
		return;
	}
	fprintf(f, "%s:%u:%u: error: %s\n    %s\n", d->file, d->line, d->column, d->message,
		d->text);
	if (!caret_visible(d))
		return;
	col = d->column - 1;
	span = d->span ? d->span : 1;
	if (col + span > len)
		span = col < len ? len - col : 1;
	fputs("    ", f);
	/* Copy the tabs of the prefix so the caret lines up whatever the tab width. */
	for (i = 0; i < col; i++)
		fputc(i < len && d->text[i] == '\t' ? '\t' : ' ', f);
	fputc('^', f);
	for (i = 1; i < span; i++)
		fputc('~', f);
	fputc('\n', f);
}

void config_diags_print(const struct config_diags *diags, FILE *f)
{
	size_t i;

	for (i = 0; i < diags->n; i++)
		diag_write(&diags->v[i], f);
}

char *config_diag_format(const struct config_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	diag_write(d, f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void config_diags_free(struct config_diags *diags)
{
	free(diags->v);
	memset(diags, 0, sizeof(*diags));
}
