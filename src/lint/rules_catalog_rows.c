/*-------------------------------------------------------------------------
 *
 * rules_catalog_rows.c
 *	  What the catalogs prove about how many rows a level returns:
 *
 *	  limit-without-order-by   taken back when the level reads one table
 *	                           and its WHERE fixes every column of a unique
 *	                           index (WHERE id = $1 LIMIT 1): at most one
 *	                           row qualifies, so no order is needed to say
 *	                           which.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lint/catalog.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"

static int	r_limit = -1;

/* Does q read one table and fix a unique key of it? */
static bool
at_most_one_row(CatContext *cx, Query *q, List *quals)
{
	Node	   *only;
	RangeTblEntry *rte;
	bool		joined;

	if (q->jointree == NULL || list_length(q->jointree->fromlist) != 1)
		return false;
	only = linitial(q->jointree->fromlist);
	if (!IsA(only, RangeTblRef))
		return false;
	rte = rt_fetch(((RangeTblRef *) only)->rtindex, q->rtable);
	if (rte->rtekind != RTE_RELATION || q->hasTargetSRFs || q->setOperations)
		return false;
	return cat_unique_within(cat_rel(cx, rte->relid),
							 cat_bound_columns(q, quals, ((RangeTblRef *) only)->rtindex,
											   &joined));
}

void
cat_rules_rows(CatContext *cx, Query *q, List *quals)
{
	int			rule = cat_rule(cx, "limit-without-order-by", &r_limit);

	if (rule < 0 || q->limitCount == NULL || q->sortClause != NIL)
		return;
	if (at_most_one_row(cx, q, quals))
		cat_retract(cx, rule, exprLocation(q->limitCount));
}
