/* Day partitions of the samples and retention. */

-- Create the day partitions (UTC days) holding ts and the day after it.
-- They become members of the extension, like their parents: pg_dump leaves
-- them out (history travels in bundles), and DROP EXTENSION drops them.
-- The next day's is made ahead of time; if a long reader holds the parent,
-- that waits for a later tick instead of failing this one.
CREATE FUNCTION @extschema@._ensure_partitions(ts timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  parent text;
  d date;
  part text;
  created integer := 0;
BEGIN
  FOREACH parent IN ARRAY ARRAY['samples', 'table_samples', 'index_samples'] LOOP
    FOR d IN SELECT (ts AT TIME ZONE 'UTC')::date + i FROM generate_series(0, 1) i LOOP
      part := parent || '_' || to_char(d, 'YYYYMMDD');
      IF NOT EXISTS (SELECT 1 FROM pg_class c
                     WHERE c.relname = part
                       AND c.relnamespace = '@extschema@'::regnamespace) THEN
        BEGIN
          EXECUTE format('CREATE TABLE @extschema@.%I PARTITION OF @extschema@.%I'
                         ' FOR VALUES FROM (%L) TO (%L)',
                         part, parent,
                         to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00',
                         to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
          EXECUTE format('ALTER EXTENSION pipeopt ADD TABLE @extschema@.%I', part);
          created := created + 1;
        EXCEPTION WHEN lock_not_available THEN
          IF d <> (ts AT TIME ZONE 'UTC')::date THEN
            CONTINUE;
          END IF;
          RAISE;
        END;
      END IF;
    END LOOP;
  END LOOP;
  RETURN created;
END
$f$;

-- Drop day partitions that lie entirely before now - pipeopt.retention, and
-- everything that only they referred to. A partition that a reader is using
-- is left for a later tick rather than waited for.
CREATE FUNCTION @extschema@._expire(now_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  cutoff timestamptz := now_ts - make_interval(mins =>
      (SELECT s.setting::integer FROM pg_settings s WHERE s.name = 'pipeopt.retention'));
  part record;
  dropped integer := 0;
BEGIN
  FOR part IN
    SELECT c.relname
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relnamespace = '@extschema@'::regnamespace
       AND p.relname IN ('samples', 'table_samples', 'index_samples')
       AND c.relname ~ '_[0-9]{8}$'
       AND (to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff
  LOOP
    BEGIN
      EXECUTE format('LOCK TABLE @extschema@.%I IN ACCESS EXCLUSIVE MODE NOWAIT', part.relname);
      EXECUTE format('ALTER EXTENSION pipeopt DROP TABLE @extschema@.%I', part.relname);
      EXECUTE format('DROP TABLE @extschema@.%I', part.relname);
      dropped := dropped + 1;
    EXCEPTION WHEN lock_not_available THEN
      RAISE LOG 'pipeopt: partition % is in use; it will be dropped at a later capture', part.relname;
    END;
  END LOOP;

  DELETE FROM @extschema@.captures c
   WHERE ((c.captured_at AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff;
  DELETE FROM @extschema@.capture_failures f WHERE f.failed_at <= cutoff;
  IF dropped > 0 THEN
    DELETE FROM @extschema@.statement_queryids m
     WHERE m.first_seen <= cutoff
       AND NOT EXISTS (SELECT 1 FROM @extschema@.statement_counters k WHERE k.queryid = m.queryid);
    DELETE FROM @extschema@.statements s
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.statement_queryids m WHERE m.fingerprint = s.fingerprint)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.samples x WHERE x.fingerprint = s.fingerprint);
  END IF;
  RETURN dropped;
END
$f$;
