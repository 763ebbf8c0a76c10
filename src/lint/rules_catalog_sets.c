/*-------------------------------------------------------------------------
 *
 * rules_catalog_sets.c
 *	  Catalog rules on duplicate removal that cannot or need not happen:
 *
 *	  union-without-all              UNION whose branches each return
 *	                                 distinct rows (a unique key selected)
 *	                                 and are disjoint (a constant column or a
 *	                                 key condition that differs): the
 *	                                 duplicate removal finds nothing;
 *	  distinct-masking-join-fanout   SELECT DISTINCT over a join to a table
 *	                                 none of whose columns is selected and
 *	                                 whose join columns are not unique: the
 *	                                 join multiplies rows for DISTINCT to
 *	                                 remove again (EXISTS does it in one).
 *
 * Constants that a normalized text shows as $n cannot be compared: such a
 * UNION is reported as undecided (info), not as a finding.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "lint/catalog.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

static int	r_union = -1;
static int	r_distinct = -1;

typedef enum Disjoint
{
	DISJOINT_NO,
	DISJOINT_UNDECIDED,
	DISJOINT_YES
} Disjoint;

/* The range table indexes of the relations in a FROM tree. */
static void
from_relations(Node *jt, List **out)
{
	ListCell   *lc;

	if (jt == NULL)
		return;
	if (IsA(jt, RangeTblRef))
		*out = lappend_int(*out, ((RangeTblRef *) jt)->rtindex);
	else if (IsA(jt, FromExpr))
		foreach(lc, ((FromExpr *) jt)->fromlist)
			from_relations(lfirst(lc), out);
	else if (IsA(jt, JoinExpr))
	{
		from_relations(((JoinExpr *) jt)->larg, out);
		from_relations(((JoinExpr *) jt)->rarg, out);
	}
}

/* Does every row of lq differ from the others (its tables' keys selected)? */
static bool
branch_keyed(CatContext *cx, Query *lq)
{
	List	   *rels = NIL;
	ListCell   *lc;

	if (lq->setOperations || lq->hasAggs || lq->groupClause || lq->hasTargetSRFs ||
		lq->groupingSets)
		return false;
	if (lq->distinctClause && !lq->hasDistinctOn)
		return true;
	from_relations((Node *) lq->jointree, &rels);
	if (rels == NIL)
		return false;
	foreach(lc, rels)
	{
		int			rti = lfirst_int(lc);
		RangeTblEntry *rte = rt_fetch(rti, lq->rtable);
		Bitmapset  *selected = NULL;
		ListCell   *lt;

		if (rte->rtekind != RTE_RELATION)
			return false;
		foreach(lt, lq->targetList)
		{
			TargetEntry *te = lfirst(lt);
			Node	   *e = cat_strip((Node *) te->expr);

			if (!te->resjunk && IsA(e, Var) && ((Var *) e)->varno == rti &&
				((Var *) e)->varlevelsup == 0)
				selected = bms_add_member(selected, ((Var *) e)->varattno);
		}
		if (!cat_unique_within(cat_rel(cx, rte->relid), selected))
			return false;
	}
	return true;
}

/* The value a one-table branch's quals fix for column attno (Const or Param), or NULL. */
static Node *
fixed_value(Query *lq, AttrNumber attno, Oid relid)
{
	List	   *quals = NIL;
	ListCell   *lc;

	if (lq->jointree == NULL || list_length(lq->jointree->fromlist) != 1)
		return NULL;
	if (lq->jointree->quals)
		quals = is_andclause(lq->jointree->quals) ?
			((BoolExpr *) lq->jointree->quals)->args : list_make1(lq->jointree->quals);
	foreach(lc, quals)
	{
		Node	   *c = lfirst(lc);

		if (!cat_is_equality(c))
			continue;
		for (int side = 0; side < 2; side++)
		{
			Oid			r;
			Var		   *v = cat_base_var(lq, list_nth(((OpExpr *) c)->args, side), &r);
			Node	   *other = cat_strip(list_nth(((OpExpr *) c)->args, 1 - side));

			if (v && r == relid && v->varattno == attno &&
				(IsA(other, Const) || IsA(other, Param)))
				return other;
		}
	}
	return NULL;
}

/* Two values: different constants (yes), a $n involved (undecided), else no. */
static Disjoint
values_differ(Node *a, Node *b)
{
	if (a == NULL || b == NULL)
		return DISJOINT_NO;
	if (IsA(a, Const) && IsA(b, Const))
		return !((Const *) a)->constisnull && !((Const *) b)->constisnull &&
			!equal(a, b) ? DISJOINT_YES : DISJOINT_NO;
	if ((IsA(a, Param) || IsA(a, Const)) && (IsA(b, Param) || IsA(b, Const)))
		return DISJOINT_UNDECIDED;
	return DISJOINT_NO;
}

static Disjoint
branches_disjoint(CatContext *cx, Query *a, Query *b)
{
	Disjoint	best = DISJOINT_NO;
	ListCell   *la,
			   *lb;
	RangeTblEntry *ra = NULL,
			   *rb = NULL;

	/* a constant column that differs */
	forboth(la, a->targetList, lb, b->targetList)
	{
		Disjoint	d = values_differ(cat_strip((Node *) ((TargetEntry *) lfirst(la))->expr),
									  cat_strip((Node *) ((TargetEntry *) lfirst(lb))->expr));

		best = Max(best, d);
	}
	if (best == DISJOINT_YES)
		return best;

	/* the same table, with a column fixed to different values */
	if (a->jointree && b->jointree && list_length(a->jointree->fromlist) == 1 &&
		list_length(b->jointree->fromlist) == 1 &&
		IsA(linitial(a->jointree->fromlist), RangeTblRef) &&
		IsA(linitial(b->jointree->fromlist), RangeTblRef))
	{
		ra = rt_fetch(linitial_node(RangeTblRef, a->jointree->fromlist)->rtindex, a->rtable);
		rb = rt_fetch(linitial_node(RangeTblRef, b->jointree->fromlist)->rtindex, b->rtable);
	}
	if (ra && rb && ra->rtekind == RTE_RELATION && rb->rtekind == RTE_RELATION &&
		ra->relid == rb->relid)
	{
		int			natts = cat_rel(cx, ra->relid)->natts;

		for (AttrNumber att = 1; att <= natts && best != DISJOINT_YES; att++)
			best = Max(best, values_differ(fixed_value(a, att, ra->relid),
										   fixed_value(b, att, rb->relid)));
	}
	return best;
}

static void
union_branches(Query *q, Node *setop, List **branches, bool *other)
{
	if (IsA(setop, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) setop)->rtindex, q->rtable);

		*branches = lappend(*branches, rte->subquery);
	}
	else if (IsA(setop, SetOperationStmt) && ((SetOperationStmt *) setop)->op == SETOP_UNION &&
			 !((SetOperationStmt *) setop)->all)
	{
		union_branches(q, ((SetOperationStmt *) setop)->larg, branches, other);
		union_branches(q, ((SetOperationStmt *) setop)->rarg, branches, other);
	}
	else
		*other = true;			/* UNION ALL, INTERSECT, EXCEPT inside */
}

static void
check_union(CatContext *cx, Query *q)
{
	int			rule = cat_rule(cx, "union-without-all", &r_union);
	List	   *branches = NIL;
	bool		other = false;
	Disjoint	all = DISJOINT_YES;
	ListCell   *lc;

	if (rule < 0 || q->setOperations == NULL)
		return;
	union_branches(q, q->setOperations, &branches, &other);
	if (other || list_length(branches) < 2)
		return;
	foreach(lc, branches)
		if (!branch_keyed(cx, lfirst(lc)))
			return;
	for (int i = 0; i < list_length(branches) && all != DISJOINT_NO; i++)
		for (int j = i + 1; j < list_length(branches) && all != DISJOINT_NO; j++)
			all = Min(all, branches_disjoint(cx, list_nth(branches, i), list_nth(branches, j)));

	if (all == DISJOINT_YES)
		cat_report(cx, rule, LINT_WARNING, -1,
				   psprintf("{\"branches\": %d, \"decided\": true}", list_length(branches)),
				   "UNION removes duplicates among %d branches that cannot have any (each selects a unique key, and they are disjoint): UNION ALL returns the same rows without the sort or hash",
				   list_length(branches));
	else if (all == DISJOINT_UNDECIDED)
		cat_report(cx, rule, LINT_INFO, -1,
				   psprintf("{\"branches\": %d, \"decided\": false, \"needs\": \"parameter values\"}",
							list_length(branches)),
				   "UNION of %d branches that each select a unique key: if their $n values differ, they are disjoint and UNION ALL returns the same rows without the sort or hash (undecided)",
				   list_length(branches));
}

static void
check_distinct(CatContext *cx, Query *q, List *quals)
{
	int			rule = cat_rule(cx, "distinct-masking-join-fanout", &r_distinct);
	List	   *rels = NIL;
	Bitmapset  *selected;
	ListCell   *lc;

	if (rule < 0 || q->commandType != CMD_SELECT || q->distinctClause == NIL ||
		q->hasDistinctOn || q->hasAggs || q->groupClause || q->setOperations)
		return;
	from_relations((Node *) q->jointree, &rels);
	if (list_length(rels) < 2)
		return;
	selected = pull_varnos(NULL, (Node *) q->targetList);
	if (bms_is_empty(selected))
		return;
	foreach(lc, rels)
	{
		int			rti = lfirst_int(lc);
		RangeTblEntry *rte = rt_fetch(rti, q->rtable);
		bool		joined;
		Bitmapset  *bound;
		CatRel	   *rel;
		StringInfoData cols;
		int			att = -1;

		if (bms_is_member(rti, selected) || rte->rtekind != RTE_RELATION)
			continue;
		bound = cat_bound_columns(q, quals, rti, &joined);
		if (!joined)
			continue;			/* not joined by equality: another rule's matter */
		rel = cat_rel(cx, rte->relid);
		if (cat_unique_within(rel, bound))
			continue;			/* at most one row per row of the others */
		initStringInfo(&cols);
		while ((att = bms_next_member(bound, att)) >= 0)
			appendStringInfo(&cols, "%s%s", cols.len ? ", " : "", cat_attname(rel, att));
		cat_report(cx, rule, LINT_WARNING, cat_relation_location(cx, rte),
				   psprintf("{\"table\": %s, \"join_columns\": %s}",
							lint_json_string(rel->qualname), lint_json_string(cols.data)),
				   "DISTINCT removes the duplicates that joining %s creates (its join columns %s are not unique) while none of its columns is selected: test it with WHERE EXISTS (SELECT 1 FROM %s WHERE ...) instead, and the DISTINCT may go",
				   rel->relname, cols.data, rel->relname);
		return;
	}
}

void
cat_rules_sets(CatContext *cx, Query *q, List *quals)
{
	check_union(cx, q);
	check_distinct(cx, q, quals);
}
