/*
 * Applying a rules_set to the legacy x_tables with libiptc.
 *
 * libiptc works on a snapshot: iptc_init() copies the whole table out of the kernel, every
 * change (create, flush, append, delete) edits that private copy, and iptc_commit() hands
 * the kernel a complete new table in one IPT_SO_SET_REPLACE.  So all changes to one table
 * are atomic, and a table is never seen half-updated.  If another process replaced the
 * table between our snapshot and our commit, the kernel notices that the rule count it was
 * given for the counters no longer matches and fails the commit with EAGAIN; the only
 * correct reaction is to throw the snapshot away and start again from a fresh one (what
 * keepalived's vrrp_iptables.c does), a bounded number of times.  To make such races rare
 * and never the fault of a concurrent iptables command, xt_apply() also holds the lock
 * iptables-legacy takes (xt_lock() below).
 */
#include "policy/xt.h" /* first: libiptc's kernel headers before glibc's net/if.h */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/*
 * A writer that does not take the xtables lock can replace the table between our snapshot
 * and our commit again and again; a pause of random length between tries moves our window
 * off its rhythm.  The bound is time, not a count: how many tries lose depends on how long
 * our window is against the other writer's rhythm (the fw-roundtrip race test, a commit
 * every millisecond, lost 10 tries in a row in 2 of 100 applies under AddressSanitizer on a
 * loaded machine).  EINVAL is also what the kernel says for a rule it rejects, which comes
 * back every time, so that one gets a few tries only.
 */
#define COMMIT_RACE_MS	    1000
#define COMMIT_EINVAL_TRIES 10
#define XT_LOCK_PATH	    "/run/xtables.lock"
#define XT_LOCK_TRIES	    500 /* 10 ms apart: give up after 5 s */

/* The kernel extensions a rule needs, for explaining a commit that failed with ENOENT. */
static const char *missing_extension(const struct rules_rule *r)
{
	static const char *const m = XT_PROC_MATCHES;
	static const char *const tg = XT_PROC_TARGETS;
	const char *port = r->proto == IPPROTO_TCP ? "tcp" : "udp";

	if (r->dport_lo && (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) &&
	    !xt_proc_has(m, port))
		return port;
	if (r->ctstate && !xt_proc_has(m, "conntrack"))
		return "conntrack";
	if (r->mark_match && !xt_proc_has(m, "mark"))
		return "mark";
	if (r->local_dst && !xt_proc_has(m, "addrtype"))
		return "addrtype";
	if (r->comment[0] && !xt_proc_has(m, "comment"))
		return "comment";
	if (r->icmp_match && !xt_proc_has(m, XT_ICMP_MATCH))
		return XT_ICMP_MATCH;
	if ((r->in_group.on || r->out_group.on) && !xt_proc_has(m, "devgroup"))
		return "devgroup";
	if (r->rpf_invert && !xt_proc_has(m, "rpfilter"))
		return "rpfilter";
	if (r->verdict == RULES_MARK && !xt_proc_has(tg, "MARK"))
		return "MARK";
	if (r->verdict == RULES_DNAT && !xt_proc_has(tg, "DNAT"))
		return "DNAT";
	if (r->verdict == RULES_MASQUERADE && !xt_proc_has(tg, "MASQUERADE"))
		return "MASQUERADE";
	return NULL;
}

static void commit_error(const struct rules_set *rs, enum rules_table t, int err, struct err *e)
{
	const char *strerr = iptc_strerror(-err);
	char line[XT_LINE_MAX];
	const char *ext;
	size_t i;

	for (i = 0; err == -ENOENT && i < rs->nrules; i++) {
		if (rs->rules[i].table != t)
			continue;
		ext = missing_extension(&rs->rules[i]);
		if (!ext)
			continue;
		rules_format(&rs->rules[i], line, sizeof(line));
		err_set(e, -err,
			"iptables table %s, chain %s: cannot commit rule \"%s\": the kernel has "
			"no \"%s\" extension (module not available?): %s",
			rules_table_name(t), rs->rules[i].chain, line, ext, strerr);
		return;
	}
	if (err == -EAGAIN) {
		err_set(e, -err,
			"iptables table %s: cannot commit: another program replaced the table "
			"under "
			"every try for %d ms (a writer that does not take the xtables lock?): %s",
			rules_table_name(t), COMMIT_RACE_MS, strerr);
		return;
	}
	err_set(e, -err, "iptables table %s: cannot commit: %s%s", rules_table_name(t), strerr,
		err == -EINVAL ? " (a match or target rejected its arguments, "
				 "the kernel log says which)"
			       : "");
}

/* The chains rs hooks into built-in chain hook, in rs order, each once. */
static int wanted_hooks(const struct rules_set *rs, enum rules_table t, const char *hook,
			struct names *want)
{
	size_t i;
	int err = 0;

	for (i = 0; i < rs->nhooks && !err; i++) {
		if (rs->hooks[i].table != t || strcmp(rs->hooks[i].from, hook) ||
		    names_has(want, rs->hooks[i].to))
			continue;
		err = names_add(want, rs->hooks[i].to);
	}
	return err;
}

/* Are the jumps to tiernet chains in this built-in chain exactly want, plain and first? */
static bool hooks_ok(struct xtc_handle *h, const char *builtin, const struct names *want)
{
	const struct ipt_entry *e;
	const char *to;
	size_t n = 0;

	for (e = iptc_first_rule(builtin, h); e; e = iptc_next_rule(e, h), n++) {
		if (n < want->n) {
			if (!xt_is_plain_jump(e, h, &to) || strcmp(to, want->v[n]))
				return false;
		} else if (xt_jumps_to_tiernet(e, h)) {
			return false;
		}
	}
	return n >= want->n;
}

/*
 * Removes every jump to a tiernet chain from a built-in chain; no other rule of it is
 * touched.  Rule numbers are 0-based here, and deleting from the end keeps them valid.
 */
static int unhook_builtin(struct xtc_handle *h, enum rules_table t, const char *builtin,
			  struct err *e)
{
	const struct ipt_entry *ent;
	unsigned n, nrules = 0, *del = NULL, ndel = 0;
	int err = 0;

	for (ent = iptc_first_rule(builtin, h); ent; ent = iptc_next_rule(ent, h))
		nrules++;
	if (nrules) {
		del = calloc(nrules, sizeof(*del));
		if (!del)
			return -ENOMEM;
	}
	for (n = 0, ent = iptc_first_rule(builtin, h); ent && n < nrules;
	     ent = iptc_next_rule(ent, h), n++)
		if (xt_jumps_to_tiernet(ent, h))
			del[ndel++] = n;
	while (ndel && !err) {
		if (!iptc_delete_num_entry(builtin, del[--ndel], h))
			err = xt_fail(e, "iptables table %s, chain %s: cannot remove rule %u",
				      rules_table_name(t), builtin, del[ndel] + 1);
	}
	free(del);
	return err;
}

static int hook_builtin(struct xtc_handle *h, enum rules_table t, const char *builtin,
			const struct names *want, struct err *e)
{
	struct xt_entry en;
	unsigned i;

	for (i = 0; i < want->n; i++) {
		if (xt_entry_build_jump(&en, want->v[i]))
			return err_set(e, E2BIG, "iptables table %s: cannot build the jump to %s",
				       rules_table_name(t), want->v[i]);
		if (!iptc_insert_entry(builtin, &en.e, i, h))
			return xt_fail(e,
				       "iptables table %s, chain %s: cannot insert rule "
				       "\"-I %s -j %s\"",
				       rules_table_name(t), builtin, builtin, want->v[i]);
	}
	return 0;
}

/*
 * Brings one built-in chain's hooks in line: if they are not already exactly right, drop
 * all of them and insert the wanted ones at the top.  With insert set, only inserts (the
 * chains they jump to must exist by then); without, only removes.
 */
static int fix_hooks(const struct rules_set *rs, struct xtc_handle *h, enum rules_table t,
		     const char *builtin, bool insert, struct err *e)
{
	struct names want = { 0 };
	int err;

	err = wanted_hooks(rs, t, builtin, &want);
	if (!err && hooks_ok(h, builtin, &want))
		goto out;
	if (err)
		err_set(e, -err, "iptables table %s: %s", rules_table_name(t), strerror(-err));
	else
		err = insert ? hook_builtin(h, t, builtin, &want, e)
			     : unhook_builtin(h, t, builtin, e);
out:
	names_free(&want);
	return err;
}

/* Every chain of rs must be tiernet's, every hook must come from a built-in chain. */
static int check_chains(const struct rules_set *rs, enum rules_table t, struct xtc_handle *h,
			struct err *e)
{
	const struct rules_chain *c;
	const struct rules_hook *k;
	size_t i;

	for (i = 0; i < rs->nchains; i++) {
		c = &rs->chains[i];
		if (c->table == t && (!xt_is_tiernet(c->name) ||
				      strnlen(c->name, sizeof(c->name)) >= sizeof(c->name)))
			return err_set(e, EINVAL,
				       "iptables table %s: chain \"%.*s\" is not a "
				       "tiernet chain",
				       rules_table_name(t), (int)sizeof(c->name), c->name);
	}
	for (i = 0; i < rs->nhooks; i++) {
		k = &rs->hooks[i];
		if (k->table != t)
			continue;
		if (strnlen(k->from, sizeof(k->from)) >= sizeof(k->from) ||
		    (!iptc_builtin(k->from, h) && !xt_is_foreign_hook(k->from)))
			return err_set(e, EINVAL,
				       "iptables table %s: \"%.*s\" is neither a built-in chain "
				       "of this table nor one tiernet may hook from",
				       rules_table_name(t), (int)sizeof(k->from), k->from);
		if (!rules_has_chain(rs, t, k->to))
			return err_set(e, EINVAL,
				       "iptables table %s: the hook from %s jumps to "
				       "\"%.*s\", which is not one of tiernet's chains",
				       rules_table_name(t), k->from, (int)sizeof(k->to), k->to);
	}
	return 0;
}

static int create_chains(const struct rules_set *rs, enum rules_table t, struct xtc_handle *h,
			 struct err *e)
{
	xt_chainlabel name = "";
	size_t i;

	for (i = 0; i < rs->nchains; i++) {
		if (rs->chains[i].table != t || iptc_is_chain(rs->chains[i].name, h))
			continue;
		/* libiptc takes a full xt_chainlabel (32 bytes); ours are shorter */
		snprintf(name, sizeof(name), "%s", rs->chains[i].name);
		if (!iptc_create_chain(name, h))
			return xt_fail(e, "iptables table %s: cannot create chain %s",
				       rules_table_name(t), rs->chains[i].name);
	}
	return 0;
}

/*
 * The error of a rule append_rule() cannot add, with the rule as text: made only then, since
 * a table of 1,000 published ports would otherwise format 1,000 lines per commit.
 */
static int append_fail(const struct rules_rule *r, struct err *e, int err, const char *verb,
		       const char *why)
{
	char line[XT_LINE_MAX];

	rules_format(r, line, sizeof(line));
	return err_set(e, err, "iptables table %s, chain %.*s: cannot %s rule \"%s\": %s",
		       rules_table_name(r->table), (int)sizeof(r->chain), r->chain, verb, line,
		       why);
}

/*
 * The counters of the rules a commit replaces.  edit_table flushes tiernet's chains and
 * appends the new rules, which would start every counter again at zero on every commit: a
 * network created anywhere on the host would reset the allow lines' counts in `tiernet
 * status` and the guards' drop counts.  So before the flush the old rules are read with their
 * counters, and a new rule equal to an old one of its chain takes that one's counters.
 * Rules keep their order from one commit to the next, so each chain has a cursor and the
 * search looks a few rules ahead of it (an inserted or removed rule shifts the rest by one):
 * linear in the rules, never a rule against every other.  The old rules are read from the
 * first try's snapshot only: a retry after a race must stay quick, and what it loses is
 * the packets counted between two snapshots.
 */
#define CARRY_AHEAD 8

struct carry_cursor {
	xt_chainlabel chain;
	size_t start, next, end; /* the chain's rules in old: [start, end) */
};

struct carry {
	struct rules_set old; /* tiernet's chains in the snapshot, chain by chain */
	bool *used;
	struct carry_cursor *cur; /* one per chain of old */
	size_t ncur;
};

static void carry_free(struct carry *c)
{
	rules_clear(&c->old);
	free(c->used);
	free(c->cur);
	memset(c, 0, sizeof(*c));
}

/* Reads the chains about to be flushed; on any failure nothing is carried (counters start at 0). */
static void carry_read(struct carry *c, struct xtc_handle *h, enum rules_table t,
		       const struct names *ours)
{
	size_t i, start;

	memset(c, 0, sizeof(*c));
	rules_init_family(&c->old, XT_FAMILY);
	c->cur = calloc(ours->n + 1, sizeof(*c->cur));
	for (i = 0; c->cur && i < ours->n; i++) {
		start = c->old.nrules;
		if (xt_read_chain(h, t, ours->v[i], &c->old) < 0)
			break;
		snprintf(c->cur[c->ncur].chain, sizeof(c->cur[c->ncur].chain), "%s", ours->v[i]);
		c->cur[c->ncur].start = c->cur[c->ncur].next = start;
		c->cur[c->ncur].end = c->old.nrules;
		c->ncur++;
	}
	c->used = calloc(c->old.nrules + 1, sizeof(*c->used));
	if (!c->cur || !c->used || i < ours->n)
		carry_free(c);
}

/* For another try: every old rule free to be taken again. */
static void carry_rewind(struct carry *c)
{
	size_t i;

	for (i = 0; i < c->ncur; i++)
		c->cur[i].next = c->cur[i].start;
	if (c->used)
		memset(c->used, 0, c->old.nrules * sizeof(*c->used));
}

/* The counters of the old rule r replaces, if any, into en. */
static void carry_take(struct carry *c, const struct rules_rule *r, struct ipt_entry *en)
{
	size_t i, k;

	for (i = 0; i < c->ncur && strcmp(c->cur[i].chain, r->chain); i++)
		;
	if (i == c->ncur)
		return;
	for (k = c->cur[i].next; k < c->cur[i].end && k < c->cur[i].next + CARRY_AHEAD; k++) {
		if (c->used[k] || !rules_rule_equal(&c->old.rules[k], r))
			continue;
		c->used[k] = true;
		en->counters.pcnt = c->old.rules[k].pkts;
		en->counters.bcnt = c->old.rules[k].bytes;
		c->cur[i].next = k + 1;
		return;
	}
}

static int append_rule(const struct rules_rule *r, struct xtc_handle *h, struct carry *c,
		       struct err *e)
{
	const char *tname = rules_table_name(r->table);
	char line[XT_LINE_MAX];
	xt_chainlabel chain = "";
	struct xt_entry en;
	int err = 0;

	if (strnlen(r->chain, sizeof(r->chain)) == sizeof(r->chain) ||
	    strnlen(r->target, sizeof(r->target)) == sizeof(r->target) ||
	    strnlen(r->comment, sizeof(r->comment)) == sizeof(r->comment)) {
		return err_set(e, EINVAL, "iptables table %s: a rule has an unterminated name",
			       tname);
	}
	if ((r->verdict == RULES_JUMP || r->verdict == RULES_GOTO) &&
	    (!xt_is_tiernet(r->target) || !iptc_is_chain(r->target, h)))
		return append_fail(r, e, ENOENT, "add",
				   "it jumps to a chain that is not one of tiernet's");
	if (!iptc_is_chain(r->chain, h) || !xt_is_tiernet(r->chain))
		return append_fail(r, e, EINVAL, "add", "the chain is not one of tiernet's");
	err = xt_entry_build(&en, r);
	if (err)
		return append_fail(r, e, -err, "build", strerror(-err));
	carry_take(c, r, &en.e);
	snprintf(chain, sizeof(chain), "%s", r->chain);
	if (!iptc_append_entry(chain, &en.e, h)) {
		rules_format(r, line, sizeof(line));
		return xt_fail(e, "iptables table %s, chain %s: cannot add rule \"%s\"", tname,
			       r->chain, line);
	}
	return 0;
}

/*
 * All edits of one table on one snapshot, in an order that keeps every step legal for
 * libiptc: empty our chains (drops references between them), unhook what is wrong, delete
 * chains rs no longer has (now unreferenced), create the new ones, fill, hook.
 */
static int edit_table(const struct rules_set *rs, enum rules_table t, struct xtc_handle *h,
		      struct carry *carry, bool first_try, struct err *e)
{
	struct names builtin = { 0 }, ours = { 0 };
	const char *tname = rules_table_name(t);
	size_t i;
	int err;

	err = xt_list_chains(h, &builtin, &ours);
	if (err)
		err_set(e, -err, "iptables table %s: %s", tname, strerror(-err));
	else
		err = check_chains(rs, t, h, e);
	/* Not nat: its counters (masquerade, the DNS redirect) are nobody's figure. */
	if (!err && t != RULES_NAT && first_try)
		carry_read(carry, h, t, &ours);
	else
		carry_rewind(carry);
	for (i = 0; !err && i < ours.n; i++)
		if (!iptc_flush_entries(ours.v[i], h))
			err = xt_fail(e, "iptables table %s: cannot flush chain %s", tname,
				      ours.v[i]);
	for (i = 0; !err && i < builtin.n; i++)
		err = fix_hooks(rs, h, t, builtin.v[i], false, e);
	for (i = 0; !err && i < ours.n; i++) {
		if (rules_has_chain(rs, t, ours.v[i]) || iptc_delete_chain(ours.v[i], h))
			continue;
		err = xt_fail(e, "iptables table %s: cannot delete chain %s", tname, ours.v[i]);
	}
	if (!err)
		err = create_chains(rs, t, h, e);
	for (i = 0; !err && i < rs->nrules; i++)
		if (rs->rules[i].table == t)
			err = append_rule(&rs->rules[i], h, carry, e);
	for (i = 0; !err && i < builtin.n; i++)
		err = fix_hooks(rs, h, t, builtin.v[i], true, e);
	names_free(&builtin);
	names_free(&ours);
	return err;
}

/*
 * iptables-legacy serialises on flock(/run/xtables.lock) (or $XTABLES_LOCKFILE, as it
 * does); libiptc itself does not.  Without the lock our commit can make a concurrent
 * iptables command fail with EAGAIN, which iptables does not retry: on a legacy host that
 * would be dockerd's own rule change failing.  The lock is advisory, so when the file cannot
 * be opened (a read-only /run) we carry on without it: our own commits still retry.
 * Returns 0 with *fd locked (or -1), or -EBUSY when someone holds the lock for 5 s.
 */
static int xt_lock(int *fd, struct err *e)
{
	const char *path = getenv("XTABLES_LOCKFILE");
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int i;

	*fd = open(path && path[0] ? path : XT_LOCK_PATH, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0)
		return 0;
	for (i = 0; i < XT_LOCK_TRIES; i++) {
		if (!flock(*fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&pause, NULL);
	}
	close(*fd);
	*fd = -1;
	return err_set(e, EBUSY, "iptables: another program holds the xtables lock (%s)",
		       path && path[0] ? path : XT_LOCK_PATH);
}

/*
 * One snapshot, one commit; a fresh snapshot when someone else committed in between.  With
 * unchanged (table t of rs is what was committed last), nothing is done.
 */
static int apply_table(const struct rules_set *rs, enum rules_table t, bool unchanged,
		       struct err *e)
{
	struct carry carry = { 0 };
	struct xtc_handle *h;
	struct timespec start, now;
	bool race;
	int try, err;

	if (unchanged)
		return 0;
	if (!rules_uses_table(rs, t) && !xt_table_present(t))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (try = 1;; try++) {
		h = iptc_init(rules_table_name(t));
		if (!h) {
			err = xt_fail(e, "cannot read iptables table %s", rules_table_name(t));
			break;
		}
		/*
		 * An edit that fails is not a race: only a failed commit is retried.  A commit
		 * is two calls: IPT_SO_SET_REPLACE fails with EAGAIN when the table changed
		 * since our snapshot; IPT_SO_SET_ADD_COUNTERS (carrying the old rules' counters
		 * over) fails with EINVAL when it changed between the two, after the new table
		 * took effect.  Both are settled by starting again from a fresh snapshot; an
		 * EINVAL that is a rule the kernel rejects comes back every time and is reported.
		 */
		err = edit_table(rs, t, h, &carry, try == 1, e);
		race = false;
		if (!err && !iptc_commit(h)) {
			err = xt_errno();
			race = err == -EAGAIN || (err == -EINVAL && try < COMMIT_EINVAL_TRIES);
			commit_error(rs, t, err, e);
		}
		iptc_free(h);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!race ||
		    (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
			COMMIT_RACE_MS)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = (long)(random() % 1000) * 1000 }, NULL);
	}
	carry_free(&carry);
	return err;
}

/*
 * Each table is one commit, so a change is all-or-nothing per table only; across tables it
 * is made so by putting the tables already committed back to old when a later one fails.
 * If that fails too, or there is no old to put back (NULL: the kernel's rules could not be
 * read), the tables are mixed, and the caller must know (-ENOTRECOVERABLE); the message
 * names the tables that hold the new rules.  With changed_only, the tables where rs and old
 * agree are left alone, both ways.
 */
static int apply_tables(const struct rules_set *rs, const struct rules_set *old, bool changed_only,
			struct err *e)
{
	static const enum rules_table order[] = { RULES_FILTER, RULES_MANGLE, RULES_NAT,
						  RULES_RAW };
	enum { NT = sizeof(order) / sizeof(order[0]) };
	char done[64] = "";
	struct err undo = { 0 };
	bool same[NT];
	size_t i, n = 0, bad = 0, nsame = 0;
	int err, r = 0, fd;

	for (i = 0; i < NT; i++) {
		same[i] = changed_only && old && rules_table_equal(rs, old, order[i]);
		nsame += same[i];
	}
	/* Nothing to commit (a change of published ports only): not even the lock to wait for. */
	if (nsame == NT)
		return 0;
	err = xt_lock(&fd, e);
	for (i = 0; i < NT && !err; i++, n++)
		err = apply_table(rs, order[i], same[i], e);
	if (err && err != -EBUSY)
		n--; /* the table that failed is unchanged */
	for (i = 0; err && old && i < n && r == 0; i++)
		r = apply_table(old, order[i], same[i], &undo);
	if (r)
		bad = i - 1; /* tables before it were put back */
	else if (err && !old && n) {
		r = -ENOTRECOVERABLE;
		err_set(&undo, ENOTRECOVERABLE, "the rules in force before could not be read");
	}
	for (i = bad; r && i < n; i++)
		snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s%s",
			 i > bad ? ", " : "", rules_table_name(order[i]));
	if (fd >= 0)
		close(fd); /* releases the lock */
	if (r) {
		err_wrap(e, -err, "tiernet: cannot apply the firewall rules");
		return err_wrap(e, ENOTRECOVERABLE,
				"the firewall is in a mixed state: tables %s hold the new rules "
				"and could not be put back (%s)",
				done, undo.msg);
	}
	if (err)
		err_wrap(e, -err, "tiernet: cannot apply the firewall rules");
	return err;
}

int xt_apply(const struct rules_set *rs, const struct rules_set *old, struct err *e)
{
	return apply_tables(rs, old, false, e);
}

int xt_apply_changed(const struct rules_set *rs, const struct rules_set *last, struct err *e)
{
	return apply_tables(rs, last, true, e);
}

/* Are table t's hooks of rs in place, first, and each of its chains there? */
static int table_in_place(const struct rules_set *rs, enum rules_table t, struct err *e)
{
	struct names builtin = { 0 }, ours = { 0 }, want = { 0 };
	struct xtc_handle *h;
	size_t i;
	int r;

	if (!xt_table_present(t))
		return 0;
	h = iptc_init(rules_table_name(t));
	if (!h)
		return xt_fail(e, "cannot read iptables table %s", rules_table_name(t));
	r = xt_list_chains(h, &builtin, &ours) ? -ENOMEM : 1;
	for (i = 0; r == 1 && i < rs->nchains; i++)
		if (rs->chains[i].table == t && !names_has(&ours, rs->chains[i].name))
			r = 0;
	for (i = 0; r == 1 && i < builtin.n; i++) {
		want.n = 0;
		if (wanted_hooks(rs, t, builtin.v[i], &want))
			r = -ENOMEM;
		else if (!hooks_ok(h, builtin.v[i], &want))
			r = 0;
	}
	if (r < 0)
		err_set(e, -r, "iptables table %s: %s", rules_table_name(t), strerror(-r));
	names_free(&builtin);
	names_free(&ours);
	names_free(&want);
	iptc_free(h);
	return r;
}

int xt_in_place(const struct rules_set *rs, struct err *e)
{
	static const enum rules_table order[] = { RULES_FILTER, RULES_MANGLE, RULES_NAT,
						  RULES_RAW };
	size_t i;
	int r = 1;

	for (i = 0; i < sizeof(order) / sizeof(order[0]) && r == 1; i++)
		if (rules_uses_table(rs, order[i]))
			r = table_in_place(rs, order[i], e);
	return r;
}
