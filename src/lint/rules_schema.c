/*-------------------------------------------------------------------------
 *
 * rules_schema.c
 *	  Schema rules on DDL text: the column types of the PostgreSQL wiki's
 *	  "Don't Do This" (char(n), money, timestamp without time zone,
 *	  varchar(n), serial) and tables created without a primary key. They
 *	  read CREATE TABLE and ALTER TABLE ... ADD COLUMN / ALTER COLUMN TYPE,
 *	  so migrations are checked before they run (pipeopt-lint in CI).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "lint/lint.h"
#include "lint/rules.h"

/* The column definitions a DDL statement adds or retypes. */
static List *
column_defs(Node *node)
{
	List	   *defs = NIL;
	ListCell   *lc;

	if (IsA(node, CreateStmt))
	{
		foreach(lc, ((CreateStmt *) node)->tableElts)
			if (IsA(lfirst(lc), ColumnDef))
				defs = lappend(defs, lfirst(lc));
	}
	else if (IsA(node, AlterTableStmt) &&
			 ((AlterTableStmt *) node)->objtype == OBJECT_TABLE)	/* not ALTER TYPE */
	{
		foreach(lc, ((AlterTableStmt *) node)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_AddColumn && cmd->def && IsA(cmd->def, ColumnDef))
				defs = lappend(defs, cmd->def);
			else if (cmd->subtype == AT_AlterColumnType && cmd->def &&
					 IsA(cmd->def, ColumnDef))
			{
				/* ALTER COLUMN c TYPE t: the name is the command's */
				ColumnDef  *col = palloc(sizeof(ColumnDef));

				*col = *(ColumnDef *) cmd->def;
				col->colname = cmd->name;
				defs = lappend(defs, col);
			}
		}
	}
	return defs;
}

/* The type's own name (pg_catalog. or not), or NULL. */
static const char *
type_name(TypeName *tn)
{
	Node	   *last;

	if (tn == NULL || tn->names == NIL)
		return NULL;
	last = llast(tn->names);
	if (list_length(tn->names) == 2 &&
		strcmp(strVal(linitial(tn->names)), "pg_catalog") != 0)
		return NULL;			/* a type of another schema */
	return IsA(last, String) ? strVal(last) : NULL;
}

typedef struct TypeAdvice
{
	const char *rule;
	const char *type;			/* as the parser names it */
	bool		needs_typmod;	/* only with a length: varchar(n) */
	const char *message;
} TypeAdvice;

static const TypeAdvice advice[] = {
	{"char-n-type", "bpchar", false,
	"column %s is char(n): padded with spaces, compared ignoring them, and no faster than text"},
	{"money-type", "money", false,
	"column %s is money: a fixed fraction set by lc_monetary, no currency, rounding on input"},
	{"timestamp-without-time-zone", "timestamp", false,
	"column %s is timestamp without time zone: it records a wall-clock reading, not a point in time"},
	{"varchar-length-limit", "varchar", true,
	"column %s is varchar(n): the limit is a constraint that costs a table rewrite to raise"},
	{"serial-column", "serial", false,
	"column %s is serial: an identity column does the same with clearer ownership and permissions"},
	{"serial-column", "bigserial", false,
	"column %s is bigserial: an identity column does the same with clearer ownership and permissions"},
	{"serial-column", "smallserial", false,
	"column %s is smallserial: an identity column does the same with clearer ownership and permissions"},
	{"serial-column", "serial8", false,
	"column %s is serial8: an identity column does the same with clearer ownership and permissions"},
	{"serial-column", "serial4", false,
	"column %s is serial4: an identity column does the same with clearer ownership and permissions"},
	{"serial-column", "serial2", false,
	"column %s is serial2: an identity column does the same with clearer ownership and permissions"},
	{NULL, NULL, false, NULL}
};

/*
 * The visitor of every type rule: the advice entries of the rule being
 * visited (run->current) decide what it reports.
 */
void
rule_column_type(LintRun *run, Node *node)
{
	const char *rule = run->current->id;
	ListCell   *lc;

	if (!lint_is_root(run))
		return;
	foreach(lc, column_defs(node))
	{
		ColumnDef  *col = lfirst_node(ColumnDef, lc);
		const char *name = type_name(col->typeName);

		if (name == NULL || col->colname == NULL)
			continue;
		for (int i = 0; advice[i].rule; i++)
		{
			if (strcmp(advice[i].rule, rule) != 0 || strcmp(advice[i].type, name) != 0)
				continue;
			if (advice[i].needs_typmod && col->typeName->typmods == NIL)
				continue;
			lint_report(run, LINT_INFO, col->location,
						psprintf("{\"column\": %s, \"type\": %s}",
								 lint_json_string(col->colname), lint_json_string(name)),
						advice[i].message, col->colname);
		}
	}
}

static bool
has_primary_key(List *constraints)
{
	ListCell   *lc;

	foreach(lc, constraints)
		if (IsA(lfirst(lc), Constraint) &&
			((Constraint *) lfirst(lc))->contype == CONSTR_PRIMARY)
			return true;
	return false;
}

/* Does a later statement of the text add a primary key to the table? */
static bool
key_added_later(LintRun *run, RangeVar *rel)
{
	ListCell   *lc;
	bool		after = false;

	foreach(lc, run->stmts)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		ListCell   *c;

		if (!after)
		{
			after = (raw == run->current_stmt);	/* statements after this one */
			continue;
		}
		if (!IsA(raw->stmt, AlterTableStmt) ||
			strcmp(((AlterTableStmt *) raw->stmt)->relation->relname, rel->relname) != 0)
			continue;
		foreach(c, ((AlterTableStmt *) raw->stmt)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, c);

			if (cmd->subtype == AT_AddConstraint && cmd->def && IsA(cmd->def, Constraint) &&
				((Constraint *) cmd->def)->contype == CONSTR_PRIMARY)
				return true;
		}
	}
	return false;
}

void
rule_table_without_primary_key(LintRun *run, Node *node)
{
	CreateStmt *cs;
	ListCell   *lc;

	if (!IsA(node, CreateStmt) || !lint_is_root(run))
		return;
	cs = (CreateStmt *) node;
	/* partitions and children inherit keys; temp tables and LIKE copies are left alone */
	if (cs->partbound || cs->inhRelations != NIL || cs->ofTypename ||
		cs->relation->relpersistence == RELPERSISTENCE_TEMP)
		return;
	foreach(lc, cs->tableElts)
	{
		Node	   *elt = lfirst(lc);

		if (IsA(elt, TableLikeClause))
			return;
		if (IsA(elt, Constraint) && ((Constraint *) elt)->contype == CONSTR_PRIMARY)
			return;
		if (IsA(elt, ColumnDef) && has_primary_key(((ColumnDef *) elt)->constraints))
			return;
	}
	/* pg_dump writes ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY later */
	if (key_added_later(run, cs->relation))
		return;
	lint_report(run, LINT_WARNING, cs->relation->location,
				psprintf("{\"table\": %s}", lint_json_string(cs->relation->relname)),
				"table %s is created without a primary key", cs->relation->relname);
}
