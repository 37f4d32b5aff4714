/* walk.c — see walk.h. */
#include "snmp/walk.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	struct snmp_target *t;		/* device */
	struct snmp_oid root;		/* subtree walked */
	struct snmp_oid last;		/* last OID delivered (root at start) */
	int reps;			/* current max-repetitions */
	int fixed;			/* caller fixed max-repetitions: do not grow */
	int shrunk_on_timeout;		/* already halved once after a timeout */
	size_t count;			/* varbinds delivered */
	snmp_walk_vb_cb vb_cb;		/* per varbind */
	snmp_walk_done_cb done_cb;	/* at the end */
	void *ctx;			/* callbacks' argument */
};

static void on_reply(void *ctx, int status, const struct snmp_pdu *resp);

static int issue(struct walk *w)
{
	if (snmp_target_version(w->t) == SNMP_V1)
		return snmp_request(w->t, SNMP_PDU_GETNEXT, &w->last, 1, 0, 0, on_reply, w);
	return snmp_request(w->t, SNMP_PDU_GETBULK, &w->last, 1, 0, w->reps, on_reply, w);
}

static void done(struct walk *w, int status, const char *err)
{
	w->done_cb(w->ctx, status, err ? err : "");
	free(w);
}

static void again(struct walk *w)
{
	int rc = issue(w);
	if (rc < 0)
		done(w, rc, "cannot queue the next request");
}

static void on_reply(void *ctx, int status, const struct snmp_pdu *resp)
{
	struct walk *w = ctx;
	char msg[SNMP_ERROR_MAX + 64];
	if (status == -ETIMEDOUT && !w->shrunk_on_timeout && w->reps > 4 && w->count > 0 &&
	    snmp_target_version(w->t) != SNMP_V1) {
		/* Some agents never answer a big GETBULK; try once with a small one. */
		w->shrunk_on_timeout = 1;
		w->reps = 4;
		again(w);
		return;
	}
	if (status < 0) {
		done(w, status, snmp_target_error(w->t));
		return;
	}
	if (resp->error_status == SNMP_ERR_TOOBIG && snmp_target_version(w->t) != SNMP_V1 &&
	    w->reps > 1) {
		w->reps /= 2;
		w->fixed = 1;
		again(w);
		return;
	}
	if (resp->error_status == SNMP_ERR_NOSUCHNAME && snmp_target_version(w->t) == SNMP_V1) {
		done(w, 0, NULL);	/* v1's way to say end of MIB */
		return;
	}
	if (resp->error_status != SNMP_ERR_NOERROR) {
		snprintf(msg, sizeof(msg), "%s: agent returned %s (index %d)",
		    snmp_target_name(w->t), snmp_err_name(resp->error_status), resp->error_index);
		done(w, -EIO, msg);
		return;
	}
	if (resp->nvb == 0) {
		done(w, 0, NULL);
		return;
	}
	for (size_t i = 0; i < resp->nvb; i++) {
		const struct snmp_varbind *vb = &resp->vb[i];
		if (vb->val.type == BER_ENDOFMIBVIEW || !snmp_oid_has_prefix(&vb->name, &w->root) ||
		    vb->name.n == w->root.n) {
			done(w, 0, NULL);
			return;
		}
		if (vb->val.type == BER_NOSUCHOBJECT || vb->val.type == BER_NOSUCHINSTANCE) {
			done(w, 0, NULL);
			return;
		}
		if (snmp_oid_cmp(&vb->name, &w->last) <= 0) {
			char a[SNMP_OID_STR_MAX];
			snprintf(msg, sizeof(msg), "%s: agent returned a non-increasing OID %s",
			    snmp_target_name(w->t), snmp_oid_str(&vb->name, a, sizeof(a)));
			done(w, -ELOOP, msg);
			return;
		}
		w->last = vb->name;
		if (++w->count > SNMP_WALK_MAX_VARBINDS) {
			done(w, -E2BIG, "walk returned too many varbinds");
			return;
		}
		if (w->vb_cb(w->ctx, vb) != 0) {
			done(w, 0, NULL);
			return;
		}
	}
	if (!w->fixed && (int)resp->nvb >= w->reps && w->reps < SNMP_WALK_REPS_MAX)
		w->reps = w->reps * 2 > SNMP_WALK_REPS_MAX ? SNMP_WALK_REPS_MAX : w->reps * 2;
	again(w);
}

int snmp_walk(struct snmp_target *t, const struct snmp_oid *root, int max_reps,
    snmp_walk_vb_cb vb_cb, snmp_walk_done_cb done_cb, void *ctx)
{
	struct walk *w = xcalloc(1, sizeof(*w));
	w->t = t;
	w->root = *root;
	w->last = *root;
	w->reps = max_reps > 0 ? max_reps : SNMP_WALK_REPS_START;
	w->fixed = max_reps > 0;
	w->vb_cb = vb_cb;
	w->done_cb = done_cb;
	w->ctx = ctx;
	int rc = issue(w);
	if (rc < 0)
		free(w);
	return rc;
}

/* ---- several columns at once ---- */

/* One column of a multi-column walk, kept small (every device of a cycle
 * has its walks in flight at once; a struct snmp_oid is 516 bytes). */
struct mcol {
	uint32_t *root;			/* the column OID's sub-identifiers, owned */
	uint32_t nroot;			/* entries in root */
	uint32_t *suf;			/* last OID seen = root + suf[0..nsuf), owned */
	uint32_t nsuf, capsuf;		/* entries in suf, slots */
};

struct mwalk {
	struct snmp_target *t;		/* device */
	size_t n;			/* columns */
	struct mcol *col;		/* per column: its root and the last OID seen */
	uint8_t *done;			/* per column: left its subtree */
	size_t *act;			/* columns asked in the request in flight */
	size_t nact;			/* entries in act */
	int reps;			/* rows per request */
	int fixed;			/* tooBig seen: stop growing */
	size_t count;			/* varbinds delivered */
	snmp_mwalk_vb_cb vb_cb;		/* per varbind */
	snmp_walk_done_cb done_cb;	/* at the end */
	void *ctx;			/* callbacks' argument */
};

static void mw_free(struct mwalk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->col[i].root);
		free(w->col[i].suf);
	}
	free(w->col);
	free(w->done);
	free(w->act);
	free(w);
}

static void mw_done(struct mwalk *w, int status, const char *err)
{
	w->done_cb(w->ctx, status, err ? err : "");
	mw_free(w);
}

static void mw_reply(void *ctx, int status, const struct snmp_pdu *resp);

/* Order two OID suffixes as snmp_oid_cmp orders the whole OIDs. */
static int suffix_cmp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	for (size_t i = 0; i < na && i < nb; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return na < nb ? -1 : na > nb ? 1 : 0;
}

/* Ask for the next rows of every running column; 1 if all columns are done. */
static int mw_issue(struct mwalk *w, int *rc)
{
	struct snmp_oid *oids = xcalloc(w->n, sizeof(*oids));
	w->nact = 0;
	for (size_t i = 0; i < w->n; i++)
		if (!w->done[i]) {
			const struct mcol *c = &w->col[i];
			struct snmp_oid *o = &oids[w->nact];
			w->act[w->nact++] = i;
			o->n = c->nroot + c->nsuf;
			memcpy(o->v, c->root, c->nroot * sizeof(uint32_t));
			if (c->nsuf)
				memcpy(o->v + c->nroot, c->suf, c->nsuf * sizeof(uint32_t));
		}
	if (w->nact == 0) {
		free(oids);
		return 1;
	}
	int v1 = snmp_target_version(w->t) == SNMP_V1;
	int reps = w->reps;
	if ((size_t)reps * w->nact > SNMP_MWALK_VARBINDS_MAX)
		reps = (int)(SNMP_MWALK_VARBINDS_MAX / w->nact);
	if (reps < 1)
		reps = 1;
	*rc = snmp_request(w->t, v1 ? SNMP_PDU_GETNEXT : SNMP_PDU_GETBULK, oids, w->nact, 0, reps,
	    mw_reply, w);
	free(oids);
	return 0;
}

static void mw_next(struct mwalk *w)
{
	int rc = 0;
	if (mw_issue(w, &rc))
		mw_done(w, 0, NULL);
	else if (rc < 0)
		mw_done(w, rc, "cannot queue the next request");
}

static void mw_reply(void *ctx, int status, const struct snmp_pdu *resp)
{
	struct mwalk *w = ctx;
	char msg[SNMP_ERROR_MAX + 64];
	int v1 = snmp_target_version(w->t) == SNMP_V1;
	if (status < 0) {
		mw_done(w, status, snmp_target_error(w->t));
		return;
	}
	if (resp->error_status == SNMP_ERR_TOOBIG && !v1 && w->reps > 1) {
		w->reps /= 2;
		w->fixed = 1;
		mw_next(w);
		return;
	}
	if (resp->error_status == SNMP_ERR_NOSUCHNAME && v1) {
		/* v1 ends one column's walk by failing the whole GETNEXT: drop it */
		size_t k = resp->error_index > 0 ? (size_t)resp->error_index - 1 : 0;
		if (k >= w->nact) {
			mw_done(w, 0, NULL);
			return;
		}
		w->done[w->act[k]] = 1;
		mw_next(w);
		return;
	}
	if (resp->error_status != SNMP_ERR_NOERROR) {
		snprintf(msg, sizeof(msg), "%s: agent returned %s (index %d)",
		    snmp_target_name(w->t), snmp_err_name(resp->error_status), resp->error_index);
		mw_done(w, -EIO, msg);
		return;
	}
	if (resp->nvb == 0) {
		mw_done(w, 0, NULL);
		return;
	}
	/* Row-major: varbind k belongs to column act[k % nact]. */
	for (size_t k = 0; k < resp->nvb; k++) {
		size_t col = w->act[k % w->nact];
		const struct snmp_varbind *vb = &resp->vb[k];
		if (w->done[col])
			continue;
		struct mcol *c = &w->col[col];
		if (vb->val.type == BER_ENDOFMIBVIEW || vb->val.type == BER_NOSUCHOBJECT ||
		    vb->val.type == BER_NOSUCHINSTANCE || vb->name.n <= c->nroot ||
		    memcmp(vb->name.v, c->root, c->nroot * sizeof(uint32_t)) != 0) {
			w->done[col] = 1;
			continue;
		}
		if (suffix_cmp(vb->name.v + c->nroot, vb->name.n - c->nroot, c->suf, c->nsuf) <= 0) {
			char a[SNMP_OID_STR_MAX];
			snprintf(msg, sizeof(msg), "%s: agent returned a non-increasing OID %s",
			    snmp_target_name(w->t), snmp_oid_str(&vb->name, a, sizeof(a)));
			mw_done(w, -ELOOP, msg);
			return;
		}
		uint32_t ns = vb->name.n - c->nroot;
		if (ns > c->capsuf) {
			c->capsuf = ns;
			c->suf = xreallocarray(c->suf, ns, sizeof(uint32_t));
		}
		memcpy(c->suf, vb->name.v + c->nroot, ns * sizeof(uint32_t));
		c->nsuf = ns;
		if (++w->count > SNMP_WALK_MAX_VARBINDS) {
			mw_done(w, -E2BIG, "walk returned too many varbinds");
			return;
		}
		if (w->vb_cb(w->ctx, col, vb) != 0) {
			mw_done(w, 0, NULL);
			return;
		}
	}
	if (!v1 && !w->fixed && resp->nvb >= (size_t)w->reps * w->nact &&
	    w->reps < SNMP_WALK_REPS_MAX)
		w->reps = w->reps * 2 > SNMP_WALK_REPS_MAX ? SNMP_WALK_REPS_MAX : w->reps * 2;
	mw_next(w);
}

int snmp_walk_columns(struct snmp_target *t, const struct snmp_oid *roots, size_t n,
    snmp_mwalk_vb_cb vb_cb, snmp_walk_done_cb done_cb, void *ctx)
{
	if (n == 0 || n > SNMP_MWALK_COLUMNS_MAX)
		return -EINVAL;
	struct mwalk *w = xcalloc(1, sizeof(*w));
	w->t = t;
	w->n = n;
	w->col = xcalloc(n, sizeof(*w->col));
	for (size_t i = 0; i < n; i++) {
		w->col[i].nroot = roots[i].n;
		w->col[i].root = xcalloc(roots[i].n ? roots[i].n : 1, sizeof(uint32_t));
		memcpy(w->col[i].root, roots[i].v, roots[i].n * sizeof(uint32_t));
	}
	w->done = xcalloc(n, 1);
	w->act = xcalloc(n, sizeof(size_t));
	w->reps = SNMP_WALK_REPS_START;
	w->vb_cb = vb_cb;
	w->done_cb = done_cb;
	w->ctx = ctx;
	int rc = 0;
	mw_issue(w, &rc);
	if (rc < 0)
		mw_free(w);
	return rc;
}
