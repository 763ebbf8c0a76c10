/*-------------------------------------------------------------------------
 *
 * catalog_index.c
 *	  The indexes of the relations a statement uses, and the questions the
 *	  catalog rules ask of them: which index leads with a column, which one
 *	  is on an expression, which is a trigram index, which keys are unique.
 *
 * An index counts only where the planner could use it: valid and ready,
 * and, if partial, with a predicate implied by the statement's conditions.
 * Expressions are compared the way the planner matches index expressions
 * (equal() on the analyzed trees), after giving both sides varno 1.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opclass.h"
#include "lint/catalog.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

/* Does the operator class opclass come from pg_trgm? */
static bool
is_trgm_opclass(Oid opclass)
{
	HeapTuple	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass));
	bool		trgm = false;

	if (HeapTupleIsValid(tup))
	{
		trgm = strstr(NameStr(((Form_pg_opclass) GETSTRUCT(tup))->opcname), "trgm_ops") != NULL;
		ReleaseSysCache(tup);
	}
	return trgm;
}

static CatIndex *
describe_index(Relation irel)
{
	Form_pg_index ix = irel->rd_index;
	CatIndex   *ci = palloc0(sizeof(CatIndex));
	bool		isnull;
	Datum		d;
	oidvector  *classes;

	ci->oid = RelationGetRelid(irel);
	ci->name = pstrdup(RelationGetRelationName(irel));
	ci->am = irel->rd_rel->relam;
	ci->nkeys = IndexRelationGetNumberOfKeyAttributes(irel);
	ci->keys = palloc(sizeof(AttrNumber) * Max(ci->nkeys, 1));
	ci->trgm = palloc0(sizeof(bool) * Max(ci->nkeys, 1));
	d = SysCacheGetAttr(INDEXRELID, irel->rd_indextuple, Anum_pg_index_indclass, &isnull);
	classes = isnull ? NULL : (oidvector *) DatumGetPointer(d);
	for (int i = 0; i < ci->nkeys; i++)
	{
		ci->keys[i] = ix->indkey.values[i];
		if (classes && (ci->am == GIN_AM_OID || ci->am == GIST_AM_OID))
			ci->trgm[i] = is_trgm_opclass(classes->values[i]);
	}
	ci->exprs = (List *) cat_normalize((Node *) RelationGetIndexExpressions(irel), 1);
	ci->pred = (List *) cat_normalize((Node *) RelationGetIndexPredicate(irel), 1);
	ci->unique = ix->indisunique && ix->indimmediate && ci->pred == NIL;
	return ci;
}

/* The relation's description, from the cache of this lint call. */
CatRel *
cat_rel(CatContext *cx, Oid relid)
{
	ListCell   *lc;
	MemoryContext old;
	Relation	rel;
	List	   *ids;
	CatRel	   *r;

	foreach(lc, cx->rels)
		if (((CatRel *) lfirst(lc))->relid == relid)
			return lfirst(lc);

	old = MemoryContextSwitchTo(cx->mcxt);
	/* parse analysis has locked it already */
	rel = relation_open(relid, AccessShareLock);
	r = palloc0(sizeof(CatRel));
	r->relid = relid;
	r->relname = pstrdup(RelationGetRelationName(rel));
	r->natts = RelationGetNumberOfAttributes(rel);
	r->qualname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											 r->relname);
	ids = RelationGetIndexList(rel);
	foreach(lc, ids)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);

		if (irel->rd_index->indisvalid && irel->rd_index->indisready &&
			irel->rd_index->indislive)
			r->indexes = lappend(r->indexes, describe_index(irel));
		index_close(irel, AccessShareLock);
	}
	relation_close(rel, AccessShareLock);
	cx->rels = lappend(cx->rels, r);
	MemoryContextSwitchTo(old);
	return r;
}

/* node without the binary-compatible relabelings the planner looks through */
Node *
cat_strip(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node;
}

/*
 * node as a column of a table of this query level: its Var, with the
 * table's OID in *relid; else NULL.
 */
Var *
cat_base_var(Query *q, Node *node, Oid *relid)
{
	Var		   *var;
	RangeTblEntry *rte;

	node = cat_strip(node);
	if (node == NULL || !IsA(node, Var))
		return NULL;
	var = (Var *) node;
	if (var->varlevelsup != 0 || var->varattno <= 0 ||
		var->varno < 1 || var->varno > list_length(q->rtable))
		return NULL;
	rte = rt_fetch(var->varno, q->rtable);
	if (rte->rtekind != RTE_RELATION ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE &&
		 rte->relkind != RELKIND_MATVIEW))
		return NULL;
	*relid = rte->relid;
	return var;
}

typedef struct NormalizeContext
{
	Index		varno;			/* Vars of this level: to varno 1 (0: keep) */
} NormalizeContext;

static Node *
normalize_mutator(Node *node, NormalizeContext *ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) copyObject(node);

		if (ctx->varno != 0 && v->varlevelsup == 0 && v->varno == ctx->varno)
			v->varno = 1;
		/* names the parser remembers (join aliases) are not the column's */
		v->varnosyn = v->varno;
		v->varattnosyn = v->varattno;
		return (Node *) v;
	}
	return expression_tree_mutator(node, normalize_mutator, ctx);
}

/* A copy of node in which Vars of varno become varno 1 (0: only tidied). */
Node *
cat_normalize(Node *node, Index varno)
{
	NormalizeContext ctx = {varno};

	return normalize_mutator(node, &ctx);
}

/* Could the planner use ix for a scan of the table (at varno) under quals? */
static bool
index_usable(CatIndex *ix, Index varno, List *quals)
{
	List	   *pred;
	List	   *clauses = NIL;
	ListCell   *lc;

	if (ix->pred == NIL)
		return true;
	/* the predicate's Vars are varno 1: bring the quals of varno there */
	pred = ix->pred;
	foreach(lc, quals)
	{
		Node	   *q = lfirst(lc);
		Bitmapset  *rels = pull_varnos(NULL, q);

		if (bms_is_member((int) varno, rels) && bms_membership(rels) == BMS_SINGLETON)
			clauses = lappend(clauses, cat_normalize(q, varno));
	}
	return clauses != NIL && predicate_implied_by(pred, clauses, false);
}

/* A B-tree, hash or BRIN index with attno as its leading column. */
CatIndex *
cat_leading_index(CatRel *rel, AttrNumber attno, Index varno, List *quals)
{
	ListCell   *lc;

	foreach(lc, rel->indexes)
	{
		CatIndex   *ix = lfirst(lc);

		if (ix->nkeys > 0 && ix->keys[0] == attno &&
			(ix->am == BTREE_AM_OID || ix->am == HASH_AM_OID || ix->am == BRIN_AM_OID) &&
			index_usable(ix, varno, quals))
			return ix;
	}
	return NULL;
}

/* An index whose leading key is the expression expr (Vars of varno). */
CatIndex *
cat_expression_index(CatRel *rel, Node *expr, Index varno, List *quals)
{
	Node	   *e = cat_strip(cat_normalize(expr, varno));
	ListCell   *lc;

	foreach(lc, rel->indexes)
	{
		CatIndex   *ix = lfirst(lc);

		if (ix->nkeys > 0 && ix->keys[0] == 0 && ix->exprs != NIL &&
			equal(cat_strip(linitial(ix->exprs)), e) &&
			index_usable(ix, varno, quals))
			return ix;
	}
	return NULL;
}

/* A GIN or GiST index with a pg_trgm operator class on attno. */
bool
cat_trigram_index(CatRel *rel, AttrNumber attno, Index varno, List *quals)
{
	ListCell   *lc;

	foreach(lc, rel->indexes)
	{
		CatIndex   *ix = lfirst(lc);

		for (int i = 0; i < ix->nkeys; i++)
			if (ix->keys[i] == attno && ix->trgm[i] && index_usable(ix, varno, quals))
				return true;
	}
	return false;
}

/* Do the columns attnos include all the keys of a unique index? */
bool
cat_unique_within(CatRel *rel, Bitmapset *attnos)
{
	ListCell   *lc;

	foreach(lc, rel->indexes)
	{
		CatIndex   *ix = lfirst(lc);
		bool		covered = ix->unique && ix->nkeys > 0;

		for (int i = 0; covered && i < ix->nkeys; i++)
			covered = ix->keys[i] > 0 && bms_is_member(ix->keys[i], attnos);
		if (covered)
			return true;
	}
	return false;
}

/* expr (Vars of varno, in rel) as SQL text. */
char *
cat_deparse(CatRel *rel, Node *expr, Index varno)
{
	return deparse_expression(cat_normalize(expr, varno),
							  deparse_context_for(rel->relname, rel->relid),
							  false, false);
}

char *
cat_attname(CatRel *rel, AttrNumber attno)
{
	return get_attname(rel->relid, attno, false);
}

/* An equality operator (by name: =) between two operands? */
bool
cat_is_equality(Node *c)
{
	char	   *name;

	if (!IsA(c, OpExpr) || list_length(((OpExpr *) c)->args) != 2)
		return false;
	name = get_opname(((OpExpr *) c)->opno);
	return name && strcmp(name, "=") == 0;
}

/*
 * The columns of relation varno that quals equate with something else
 * (another table's column: *joined set; a value: a filter).
 */
Bitmapset *
cat_bound_columns(Query *q, List *quals, Index varno, bool *joined)
{
	Bitmapset  *bound = NULL;
	ListCell   *lc;

	*joined = false;
	foreach(lc, quals)
	{
		Node	   *c = lfirst(lc);

		if (!cat_is_equality(c))
			continue;
		for (int side = 0; side < 2; side++)
		{
			Node	   *mine = list_nth(((OpExpr *) c)->args, side);
			Node	   *other = list_nth(((OpExpr *) c)->args, 1 - side);
			Oid			relid;
			Var		   *v = cat_base_var(q, mine, &relid);
			Bitmapset  *others;

			if (v == NULL || v->varno != varno)
				continue;
			others = pull_varnos(NULL, other);
			if (bms_is_member((int) varno, others) || contain_volatile_functions(other))
				continue;
			bound = bms_add_member(bound, v->varattno);
			if (!bms_is_empty(others))
				*joined = true;
		}
	}
	return bound;
}
