/*-------------------------------------------------------------------------
 *
 * advisor.h
 *	  The storage and statistics advisor's view of a statement: what an
 *	  analyzed statement compares (range and equality predicates on table
 *	  columns), whether it aggregates, and whether the rows it returns are
 *	  the rows its one table scan matches (so that the planner's row
 *	  estimate can be held against the rows it really returned).
 *
 * The advisor itself is SQL (src/sql/0.1/87_storage.sql); C gives it the
 * shape of each statement, analyzed as its role in the sandbox
 * (storage_quals.c), and the what-if planner's costs and sizes of a BRIN
 * and a B-tree index on a column (storage_api.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_STORAGE_ADVISOR_H
#define PIPEOPT_STORAGE_ADVISOR_H

#include "postgres.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

/* Columns of one table a statement compares in one way. */
typedef struct StorageColumns
{
	Oid			relid;
	List	   *attnums;		/* integer list, ascending, no duplicates */
} StorageColumns;

typedef struct StorageShape
{
	bool		aggregate;		/* top level: aggregates or GROUP BY */
	bool		rows_comparable;	/* one table; rows out = rows its scan matches */
	List	   *relations;		/* OIDs of the tables it reads or writes */
	List	   *ranges;			/* StorageColumns: col <, <=, >, >= a value */
	List	   *equalities;		/* StorageColumns: col = a value, col IN (...) */
	List	   *columns;		/* SELECT: output column names (char *) */
	List	   *group_columns;	/* output columns that are GROUP BY keys */
	bool		groups_output;	/* every GROUP BY key is an output column */
} StorageShape;

/* storage_quals.c */
extern void storage_shape(Query *query, StorageShape *shape);
extern Query *storage_bind_params(Query *query, ParamListInfo params);

#endif							/* PIPEOPT_STORAGE_ADVISOR_H */
