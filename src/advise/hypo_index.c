/*-------------------------------------------------------------------------
 *
 * hypo_index.c
 *	  Hypothetical indexes: made from a CREATE INDEX text (parsed and
 *	  transformed, never executed) or by the advisor from columns, and
 *	  shown to the planner by a get_relation_info_hook.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/relation.h"
#include "advise/whatif.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/plancat.h"
#include "parser/parse_utilcmd.h"
#include "parser/parser.h"
#include "rewrite/rewriteManip.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

/* Fake OIDs count down from here: far above any a cluster hands out. */
#define HYPO_FIRST_OID ((Oid) 0xFFFFF000)

static Oid	next_oid = HYPO_FIRST_OID;
static WhatifConfig *active = NULL;
static get_relation_info_hook_type prev_hook = NULL;

static Oid
fake_oid(void)
{
	if (next_oid < HYPO_FIRST_OID - 0x00FFFFFF)
		next_oid = HYPO_FIRST_OID;
	return next_oid--;
}

static void
check_relation(Oid relid)
{
	char		relkind = get_rel_relkind(relid);

	if (relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot plan a hypothetical index on \"%s\"", get_rel_name(relid)),
				 errdetail("Hypothetical indexes are supported on tables and materialized views, not on partitioned tables, views or foreign tables.")));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errdetail("A hypothetical index's size comes from the table's statistics, which only its readers may see.")));
}

/*
 * A hypothetical index from "CREATE INDEX ... ON table (columns) [INCLUDE
 * (...)] [WITH (fillfactor = n)] [WHERE ...]": the text is parsed and
 * transformed as PostgreSQL would (names resolved with the caller's
 * search_path and privileges), and nothing is built.
 */
HypoIndex *
hypo_index_from_definition(const char *definition)
{
	List	   *raw = raw_parser(definition, RAW_PARSE_DEFAULT);
	IndexStmt  *stmt;
	HypoIndex  *h;
	ListCell   *lc;
	int			i = 0;

	if (list_length(raw) != 1 || !IsA(((RawStmt *) linitial(raw))->stmt, IndexStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a hypothetical index must be given as one CREATE INDEX statement"),
				 errdetail("The definition given was \"%s\".", definition)));
	stmt = (IndexStmt *) ((RawStmt *) linitial(raw))->stmt;
	if (stmt->concurrent || stmt->primary || stmt->isconstraint || stmt->excludeOpNames)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hypothetical indexes cannot be constraints"),
				 errhint("Write CREATE [UNIQUE] INDEX ON table (columns).")));

	h = palloc0(sizeof(HypoIndex));
	h->relid = RangeVarGetRelidExtended(stmt->relation, AccessShareLock, 0, NULL, NULL);
	check_relation(h->relid);
	stmt = transformIndexStmt(h->relid, stmt, definition);

	h->oid = fake_oid();
	h->am = get_index_am_oid(stmt->accessMethod, false);
	if (h->am != BTREE_AM_OID && h->am != HASH_AM_OID && h->am != BRIN_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hypothetical indexes using \"%s\" are not supported", stmt->accessMethod),
				 errdetail("The what-if planner models btree, hash and brin indexes.")));
	h->unique = stmt->unique;
	if (h->unique && h->am != BTREE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("access method \"%s\" does not support unique indexes", stmt->accessMethod)));
	h->nkeys = list_length(stmt->indexParams);
	h->ncols = h->nkeys + list_length(stmt->indexIncludingParams);
	if (h->ncols > INDEX_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_TOO_MANY_COLUMNS),
				 errmsg("cannot use more than %d columns in an index", INDEX_MAX_KEYS)));
	foreach(lc, list_concat_copy(stmt->indexParams, stmt->indexIncludingParams))
	{
		IndexElem  *e = lfirst(lc);
		Oid			type;
		Oid			collation;

		if (e->name)
		{
			int32		typmod;

			h->attnos[i] = get_attnum(h->relid, e->name);
			if (h->attnos[i] <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" does not exist", e->name)));
			get_atttypetypmodcoll(h->relid, h->attnos[i], &type, &typmod, &collation);
		}
		else
		{
			h->attnos[i] = 0;
			h->exprs = lappend(h->exprs, e->expr);
			type = exprType(e->expr);
			collation = exprCollation(e->expr);
		}
		if (i < h->nkeys)
		{
			h->opclass[i] = ResolveOpClass(e->opclass, type, stmt->accessMethod, h->am);
			h->collation[i] = e->collation ? get_collation_oid(e->collation, false) : collation;
			h->desc[i] = e->ordering == SORTBY_DESC;
			h->nulls_first[i] = e->nulls_ordering == SORTBY_NULLS_DEFAULT ?
				h->desc[i] : e->nulls_ordering == SORTBY_NULLS_FIRST;
		}
		i++;
	}
	foreach(lc, stmt->options)
	{
		DefElem    *d = lfirst(lc);

		/* pages: "what if it had n pages" (bloat, or another tool's size model) */
		if (strcmp(d->defname, "pages") == 0)
		{
			int64		pages = defGetInt64(d);

			if (pages < 1 || pages > MaxBlockNumber)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("pages must be between 1 and %u", MaxBlockNumber)));
			h->pages = (BlockNumber) pages;
			continue;
		}
		if (strcmp(d->defname, "fillfactor") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("index option \"%s\" is not supported for hypothetical indexes", d->defname),
					 errhint("Hypothetical indexes take fillfactor, and pages to set their size.")));
		h->fillfactor = (int) defGetInt64(d);
		if (h->fillfactor < 10 || h->fillfactor > 100)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("fillfactor must be between 10 and 100")));
	}
	if (stmt->whereClause)
	{
		/* as RelationGetIndexPredicate() prepares a predicate */
		Node	   *pred = eval_const_expressions(NULL, stmt->whereClause);

		pred = (Node *) canonicalize_qual((Expr *) pred, false);
		h->pred = make_ands_implicit((Expr *) pred);
	}
	h->exprs = (List *) eval_const_expressions(NULL, (Node *) h->exprs);
	return h;
}

/* A B-tree on columns of relid, default operator classes and collations. */
HypoIndex *
hypo_index_btree(Oid relid, const AttrNumber *attnos, int n)
{
	HypoIndex  *h = palloc0(sizeof(HypoIndex));

	h->oid = fake_oid();
	h->relid = relid;
	h->am = BTREE_AM_OID;
	h->nkeys = h->ncols = n;
	for (int i = 0; i < n; i++)
	{
		Oid			type;
		int32		typmod;

		h->attnos[i] = attnos[i];
		get_atttypetypmodcoll(relid, attnos[i], &type, &typmod, &h->collation[i]);
		h->opclass[i] = GetDefaultOpClass(type, BTREE_AM_OID);
	}
	return h;
}

/* CREATE INDEX text for h, names quoted from the catalogs as they are now. */
char *
hypo_index_describe(HypoIndex *h)
{
	StringInfoData buf;
	ListCell   *expr = list_head(h->exprs);
	List	   *context = deparse_context_for(get_rel_name(h->relid), h->relid);

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE %sINDEX ON %s.%s USING %s (",
					 h->unique ? "UNIQUE " : "",
					 quote_identifier(get_namespace_name(get_rel_namespace(h->relid))),
					 quote_identifier(get_rel_name(h->relid)), get_am_name(h->am));
	for (int i = 0; i < h->ncols; i++)
	{
		if (i == h->nkeys)
			appendStringInfoString(&buf, ") INCLUDE (");
		else if (i > 0)
			appendStringInfoString(&buf, ", ");
		if (h->attnos[i] > 0)
			appendStringInfoString(&buf, quote_identifier(get_attname(h->relid, h->attnos[i], false)));
		else
		{
			appendStringInfo(&buf, "(%s)", deparse_expression(lfirst(expr), context, false, false));
			expr = lnext(h->exprs, expr);
		}
		if (i < h->nkeys && h->desc[i])
			appendStringInfoString(&buf, " DESC");
		if (i < h->nkeys && h->nulls_first[i] != h->desc[i])
			appendStringInfoString(&buf, h->nulls_first[i] ? " NULLS FIRST" : " NULLS LAST");
	}
	appendStringInfoChar(&buf, ')');
	if (h->fillfactor > 0)
		appendStringInfo(&buf, " WITH (fillfactor = %d)", h->fillfactor);
	if (h->pred)
		appendStringInfo(&buf, " WHERE %s",
						 deparse_expression((Node *) make_ands_explicit(h->pred), context, false, false));
	return buf.data;
}

/*
 * The entries h would hold now: the planner's row estimate of its table,
 * times its predicate's selectivity (a one-table planner root, as
 * plan_cluster_use_sort() builds one).
 */
double
hypo_index_entries(HypoIndex *h)
{
	Query	   *query = makeNode(Query);
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	PlannerGlobal *glob = makeNode(PlannerGlobal);
	PlannerInfo *root = makeNode(PlannerInfo);
	RelOptInfo *rel;

	query->commandType = CMD_SELECT;
	rte->rtekind = RTE_RELATION;
	rte->relid = h->relid;
	rte->relkind = get_rel_relkind(h->relid);
	rte->rellockmode = AccessShareLock;
	rte->inFromCl = true;
	query->rtable = list_make1(rte);
	root->parse = query;
	root->glob = glob;
	root->query_level = 1;
	root->planner_cxt = CurrentMemoryContext;
	root->wt_param_id = -1;
	setup_simple_rel_arrays(root);
	rel = build_simple_rel(root, 1, NULL);
	if (h->pred == NIL)
		return rel->tuples;
	return clamp_row_est(rel->tuples *
						 clauselist_selectivity(root, h->pred, 1, JOIN_INNER, NULL));
}

/* The IndexOptInfo plancat.c would build if h existed. */
static IndexOptInfo *
index_info(PlannerInfo *root, RelOptInfo *rel, Relation heap, HypoIndex *h)
{
	IndexOptInfo *info = makeNode(IndexOptInfo);
	IndexAmRoutine *amroutine = GetIndexAmRoutineByAmId(h->am, false);
	ListCell   *expr;
	HypoSize	size;

	info->indexoid = h->oid;
	info->reltablespace = rel->reltablespace;
	info->rel = rel;
	info->ncolumns = h->ncols;
	info->nkeycolumns = h->nkeys;
	info->indexkeys = palloc(sizeof(int) * h->ncols);
	info->canreturn = palloc(sizeof(bool) * h->ncols);
	info->opclassoptions = palloc0(sizeof(bytea *) * h->ncols);
	info->indexcollations = palloc(sizeof(Oid) * h->nkeys);
	info->opfamily = palloc(sizeof(Oid) * h->nkeys);
	info->opcintype = palloc(sizeof(Oid) * h->nkeys);
	for (int i = 0; i < h->ncols; i++)
	{
		info->indexkeys[i] = h->attnos[i];
		/* btcanreturn() says yes to every column; hash and BRIN have none */
		info->canreturn[i] = h->am == BTREE_AM_OID;
	}
	for (int i = 0; i < h->nkeys; i++)
	{
		info->indexcollations[i] = h->collation[i];
		info->opfamily[i] = get_opclass_family(h->opclass[i]);
		info->opcintype[i] = get_opclass_input_type(h->opclass[i]);
	}
	info->relam = h->am;
	info->amcanorderbyop = amroutine->amcanorderbyop;
	info->amoptionalkey = amroutine->amoptionalkey;
	info->amsearcharray = amroutine->amsearcharray;
	info->amsearchnulls = amroutine->amsearchnulls;
	info->amcanparallel = amroutine->amcanparallel;
	info->amhasgettuple = amroutine->amgettuple != NULL;
	info->amhasgetbitmap = amroutine->amgetbitmap != NULL;
	info->amcanmarkpos = amroutine->ammarkpos != NULL && amroutine->amrestrpos != NULL;
	info->amcostestimate = amroutine->amcostestimate;
	if (h->am == BTREE_AM_OID)
	{
		info->sortopfamily = info->opfamily;
		info->reverse_sort = palloc(sizeof(bool) * h->nkeys);
		info->nulls_first = palloc(sizeof(bool) * h->nkeys);
		for (int i = 0; i < h->nkeys; i++)
		{
			info->reverse_sort[i] = h->desc[i];
			info->nulls_first[i] = h->nulls_first[i];
		}
	}
	info->indexprs = copyObject(h->exprs);
	info->indpred = copyObject(h->pred);
	if (rel->relid != 1)
	{
		ChangeVarNodes((Node *) info->indexprs, 1, rel->relid, 0);
		ChangeVarNodes((Node *) info->indpred, 1, rel->relid, 0);
	}

	/* the targetlist of the index columns, as build_index_tlist() makes it */
	expr = list_head(info->indexprs);
	for (int i = 0; i < h->ncols; i++)
	{
		Expr	   *e;

		if (h->attnos[i] > 0)
		{
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(heap), h->attnos[i] - 1);

			e = (Expr *) makeVar(rel->relid, h->attnos[i], att->atttypid, att->atttypmod,
								 att->attcollation, 0);
		}
		else
		{
			e = lfirst(expr);
			expr = lnext(info->indexprs, expr);
		}
		info->indextlist = lappend(info->indextlist, makeTargetEntry(e, i + 1, NULL, false));
	}
	info->unique = h->unique;
	info->immediate = true;
	info->hypothetical = true;	/* e.g. get_actual_variable_range() skips it */

	/* a partial index covers the rows its predicate keeps */
	info->tuples = rel->tuples;
	if (info->indpred)
		info->tuples = clamp_row_est(rel->tuples *
									 clauselist_selectivity(root, info->indpred, rel->relid,
															JOIN_INNER, NULL));
	hypo_estimate_size(h, info->tuples, &size);
	info->pages = size.pages;
	info->tree_height = size.tree_height;
	if (h->pages > 0)
	{
		/* a given size: the planner guesses the height, as for an unknown one */
		info->pages = h->pages;
		info->tree_height = -1;
	}
	return info;
}

static void
relation_info_hook(PlannerInfo *root, Oid relid, bool inhparent, RelOptInfo *rel)
{
	ListCell   *lc;
	Relation	heap;

	if (active == NULL || inhparent)
		return;
	if (active->hidden)
		foreach(lc, rel->indexlist)
		{
			IndexOptInfo *info = lfirst(lc);

			if (list_member_oid(active->hidden, info->indexoid))
				rel->indexlist = foreach_delete_current(rel->indexlist, lc);
		}
	heap = NULL;
	foreach(lc, active->hypos)
	{
		HypoIndex  *h = lfirst(lc);

		if (h->relid != relid)
			continue;
		if (heap == NULL)
			heap = relation_open(relid, NoLock);	/* the planner holds a lock */
		rel->indexlist = lcons(index_info(root, rel, heap, h), rel->indexlist);
	}
	if (heap)
		relation_close(heap, NoLock);
}

/*
 * While config is installed, the planner sees it, and only it: no other
 * extension's hook (HypoPG's hypothetical indexes) runs.
 */
void
hypo_index_install(WhatifConfig *config)
{
	Assert(active == NULL);
	active = config;
	prev_hook = get_relation_info_hook;
	get_relation_info_hook = relation_info_hook;
}

void
hypo_index_uninstall(void)
{
	get_relation_info_hook = prev_hook;
	prev_hook = NULL;
	active = NULL;
}
