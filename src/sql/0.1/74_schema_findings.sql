/* Schema findings from the catalogs: refreshed by analyze(), shown in findings. */

CREATE TABLE @extschema@.schema_findings (
  relid       oid NOT NULL,
  schemaname  name NOT NULL,
  relname     name NOT NULL,
  rule        text NOT NULL,
  severity    text NOT NULL,
  message     text NOT NULL,
  evidence    jsonb NOT NULL,
  found_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- The schema rules that read the catalogs (pipeopt's own schema and system
-- schemas left out). Only catalog reads: no user code runs.
CREATE FUNCTION @extschema@._schema_rules()
RETURNS TABLE (relid oid, schemaname name, relname name, rule text, severity text,
               message text, evidence jsonb)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH tables AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', '@extschema@')
       AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'
  ), btree AS (
    -- plain B-tree indexes: key columns, no expressions, no predicate
    SELECT i.indexrelid, i.indrelid, i.indisunique, i.indisprimary, i.indisreplident,
           i.indkey::int2[] AS keys, i.indnkeyatts,
           (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keycols,
           i.indclass::oid[] AS classes, i.indcollation::oid[] AS collations,
           EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) AS backs_constraint
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
     WHERE i.indisvalid AND i.indexprs IS NULL AND i.indpred IS NULL
       AND i.indrelid IN (SELECT t.oid FROM tables t)
  )
  -- table-without-primary-key
  SELECT t.oid, t.nspname, t.relname, 'table-without-primary-key', 'warning',
         format('table %I.%I has no primary key', t.nspname, t.relname),
         jsonb_build_object('table', format('%I.%I', t.nspname, t.relname),
                            'has_unique_index', EXISTS (SELECT 1 FROM btree b WHERE b.indrelid = t.oid AND b.indisunique))
    FROM tables t
   WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = t.oid AND k.contype = 'p')
  UNION ALL
  -- missing-fk-index: no index whose leading key columns are the foreign key's columns
  SELECT t.oid, t.nspname, t.relname, 'missing-fk-index', 'warning',
         format('foreign key %I on %I.%I (%s) has no index that starts with its columns',
                k.conname, t.nspname, t.relname,
                (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.ord)
                   FROM unnest(k.conkey) WITH ORDINALITY u(att, ord)
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.att)),
         jsonb_build_object('constraint', k.conname,
                            'references', k.confrelid::regclass::text,
                            'table_bytes', pg_relation_size(t.oid))
    FROM tables t JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype = 'f'
   WHERE NOT EXISTS (
           SELECT 1 FROM pg_index i
            WHERE i.indrelid = t.oid AND i.indisvalid AND i.indpred IS NULL
              AND (SELECT array_agg(x ORDER BY x) FROM unnest((i.indkey::int2[])[0:cardinality(k.conkey) - 1]) x)
                = (SELECT array_agg(x ORDER BY x) FROM unnest(k.conkey) x))
  UNION ALL
  -- duplicate-or-redundant-index: same leading key columns, classes and
  -- collations; never advised for an index behind a constraint, unique,
  -- or the replica identity. One finding per redundant index: the index
  -- that covers it best (an exact duplicate, else the narrowest).
  SELECT * FROM (
    SELECT DISTINCT ON (a.indexrelid)
           t.oid, t.nspname, t.relname, 'duplicate-or-redundant-index'::text, 'warning'::text,
           CASE WHEN a.keycols = b.keycols
                THEN format('index %s duplicates index %s', a.indexrelid::regclass, b.indexrelid::regclass)
                ELSE format('index %s is a prefix of index %s', a.indexrelid::regclass, b.indexrelid::regclass) END,
           jsonb_build_object('index', a.indexrelid::regclass::text, 'covered_by', b.indexrelid::regclass::text,
                              'index_bytes', pg_relation_size(a.indexrelid))
      FROM btree a
      JOIN btree b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
      JOIN tables t ON t.oid = a.indrelid
     WHERE NOT a.indisunique AND NOT a.indisprimary AND NOT a.indisreplident AND NOT a.backs_constraint
       AND a.indnkeyatts <= b.indnkeyatts
       AND a.keycols = b.keycols[1:a.indnkeyatts]
       AND a.classes[0:a.indnkeyatts - 1] = b.classes[0:a.indnkeyatts - 1]
       AND a.collations[0:a.indnkeyatts - 1] = b.collations[0:a.indnkeyatts - 1]
       -- of two identical plain indexes, report only one
       AND (a.keycols <> b.keycols OR a.keys <> b.keys OR b.indisunique OR b.backs_constraint
            OR a.indexrelid > b.indexrelid)
     ORDER BY a.indexrelid, (a.keycols = b.keycols) DESC, b.indnkeyatts, b.indexrelid
  ) redundant
$f$;
