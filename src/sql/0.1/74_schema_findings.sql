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
  UNION ALL
  -- unused-index: observed for the whole window (pipeopt.unused_index_days)
  -- and never scanned in it; plain tables only (a partitioned table's
  -- scans are counted on its partitions' indexes).
  SELECT t.oid, t.nspname, t.relname, 'unused-index', 'warning',
         format('index %s has not been scanned in %s days of observation',
                i.indexrelid::regclass, w.days),
         jsonb_build_object('index', i.indexrelid::regclass::text,
                            'index_bytes', pg_relation_size(i.indexrelid),
                            'observed_since', o.first_seen, 'window_days', w.days)
    FROM tables t
    JOIN pg_index i ON i.indrelid = t.oid
    JOIN @extschema@.index_counters o ON o.indexrelid = i.indexrelid
   CROSS JOIN (SELECT coalesce(current_setting('pipeopt.unused_index_days', true)::integer, 7) AS days) w
   WHERE t.relkind = 'r' AND i.indisvalid
     AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion AND NOT i.indisreplident
     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
     AND o.first_seen <= now() - make_interval(days => w.days)
     AND NOT EXISTS (SELECT 1 FROM @extschema@.index_samples s
                      WHERE s.indexrelid = i.indexrelid AND s.idx_scan > 0
                        AND s.captured_at > now() - make_interval(days => w.days))
  UNION ALL
  -- bulk-load-into-heavily-indexed-table: many rows inserted in the retained
  -- history into a table that maintains many indexes
  SELECT t.oid, t.nspname, t.relname, 'bulk-load-into-heavily-indexed-table', 'warning',
         format('%s rows inserted into %I.%I maintain %s indexes each', l.inserted,
                t.nspname, t.relname, l.indexes),
         jsonb_build_object('rows_inserted', l.inserted, 'indexes', l.indexes,
                            'rows_per_hour', round(l.inserted / greatest(l.hours, 1.0 / 60)),
                            'indexes_bytes', l.indexes_bytes)
    FROM tables t
   CROSS JOIN LATERAL (
     SELECT sum(s.n_tup_ins) AS inserted,
            extract(epoch FROM max(s.captured_at) - min(c.interval_start)) / 3600 AS hours,
            (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.oid AND i.indisvalid) AS indexes,
            (SELECT sum(pg_relation_size(i.indexrelid)) FROM pg_index i WHERE i.indrelid = t.oid) AS indexes_bytes
       FROM @extschema@.table_samples s
       JOIN @extschema@.captures c ON c.capture_id = s.capture_id
      WHERE s.relid = t.oid) l
   WHERE l.indexes >= 5 AND l.inserted >= 50000
$f$;
