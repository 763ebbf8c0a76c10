/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  The rules that need the catalogs: server-only, behind LintCatalog.
 *
 * catalog.c runs parse analysis on each statement as a given role, in a
 * security-restricted context and a subtransaction that is always rolled
 * back (no lock outlives the statement, no error escapes), and walks every
 * query level of the result. catalog_index.c describes the indexes of the
 * relations a statement uses. The rules_catalog_*.c files hold the rules.
 *
 * Glossary: a "level" is one Query of the analyzed tree (the statement,
 * a subquery, a CTE, a UNION branch); its "quals" are the conditions of
 * its WHERE and JOIN ... ON, split at AND.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_LINT_CATALOG_H
#define PIPEOPT_LINT_CATALOG_H

#include "lint/lint.h"
#include "nodes/bitmapset.h"
#include "nodes/parsenodes.h"

/* One valid index, as the rules need it. */
typedef struct CatIndex
{
	Oid			oid;
	char	   *name;
	Oid			am;
	int			nkeys;			/* key columns (INCLUDE ones not counted) */
	AttrNumber *keys;			/* per key: attno, or 0 for an expression */
	List	   *exprs;			/* the key expressions, in order (varno 1) */
	List	   *pred;			/* partial index: its predicate (varno 1) */
	bool		unique;			/* unique, not deferrable, not partial */
	bool	   *trgm;			/* per key: a pg_trgm operator class */
} CatIndex;

typedef struct CatRel
{
	Oid			relid;
	char	   *qualname;		/* schema.table, quoted as needed */
	char	   *relname;
	int			natts;
	List	   *indexes;		/* CatIndex * */
} CatRel;

typedef struct CatContext
{
	LintRun    *run;
	Oid			role;			/* analyze as this role */
	char	   *search_path;	/* and with this search_path (NULL: as is) */
	MemoryContext mcxt;			/* lives as long as the lint call */
	List	   *rels;			/* CatRel * cache */
	Node	   *raw;			/* the server's raw tree of the statement */
	int			any_enabled;	/* a catalog-only rule is on: 1, 0, -1 not known yet */
} CatContext;

/* catalog.c */
extern void pipeopt_lint_catalog_init(LintCatalog *catalog, Oid role, bool as_default);
extern int	cat_rule(CatContext *cx, const char *id, int *cache);
extern void cat_report(CatContext *cx, int rule, LintSeverity severity, int location,
					   const char *evidence, const char *fmt,...) pg_attribute_printf(6, 7);
extern void cat_retract(CatContext *cx, int rule, int location);
extern int	cat_relation_location(CatContext *cx, RangeTblEntry *rte);
extern bool cat_param_typed(CatContext *cx, int paramid);

/* catalog_index.c */
extern CatRel *cat_rel(CatContext *cx, Oid relid);
extern Var *cat_base_var(Query *q, Node *node, Oid *relid);
extern Node *cat_strip(Node *node);
extern Node *cat_normalize(Node *node, Index varno);
extern CatIndex *cat_leading_index(CatRel *rel, AttrNumber attno, Index varno, List *quals);
extern CatIndex *cat_expression_index(CatRel *rel, Node *expr, Index varno, List *quals);
extern bool cat_trigram_index(CatRel *rel, AttrNumber attno, Index varno, List *quals);
extern bool cat_unique_within(CatRel *rel, Bitmapset *attnos);
extern bool cat_is_equality(Node *c);
extern Bitmapset *cat_bound_columns(Query *q, List *quals, Index varno, bool *joined);
extern char *cat_deparse(CatRel *rel, Node *expr, Index varno);
extern char *cat_attname(CatRel *rel, AttrNumber attno);

/* rules_catalog_quals.c: function-on-indexed-column, implicit-cast-on-indexed-column, or-across-columns, leading-wildcard-like (trigram) */
extern void cat_rules_quals(CatContext *cx, Query *q, List *quals);

/* rules_catalog_sets.c: union-without-all, distinct-masking-join-fanout */
extern void cat_rules_sets(CatContext *cx, Query *q, List *quals);

/* rules_catalog_rows.c: limit-without-order-by (taken back on a unique key) */
extern void cat_rules_rows(CatContext *cx, Query *q, List *quals);

#endif							/* PIPEOPT_LINT_CATALOG_H */
