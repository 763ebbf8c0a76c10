# The effectiveness monitor on the background worker's clock: every
# second the worker captures, approves by policy, judges the changes whose
# validation window closed, and starts an apply worker for the changes and
# reverts due. A useful index approved by policy is applied and verified
# as improved; a useful index dropped by policy makes its statements
# regress, and the monitor has the apply worker recreate it, recorded in
# change_log with who and why.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('monitor');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pg_stat_statements.track = all
pipeopt.sample_interval = 1
pipeopt.advise_interval = 0
pipeopt.validation_window = 4
pipeopt.validation_min_calls = 50
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
$node->safe_psql('postgres', q{
  CREATE TABLE faster (id int PRIMARY KEY, customer int, pad text);
  CREATE TABLE slower (id int PRIMARY KEY, customer int, pad text);
  INSERT INTO faster SELECT g, g % 1000, repeat('x', 60) FROM generate_series(1, 50000) g;
  INSERT INTO slower SELECT g, g % 1000, repeat('x', 60) FROM generate_series(1, 50000) g;
  CREATE INDEX slower_customer ON slower (customer);
  ANALYZE faster, slower;
  -- the workload: lookups by customer in one table
  CREATE FUNCTION lookups(t text, n int) RETURNS boolean LANGUAGE plpgsql AS $$
  BEGIN
    FOR i IN 1..n LOOP
      EXECUTE format('SELECT count(*) FROM %I WHERE customer = $1', t) USING (random() * 999)::int;
    END LOOP;
    RETURN true;
  END $$;
});

# Run the workload of table t until the condition holds (polled, with the
# workload in the same query, so the statements keep running meanwhile).
sub run_until
{
	my ($t, $condition, $what) = @_;
	$node->poll_query_until('postgres', "SELECT lookups('$t', 20) AND ($condition)")
	  or die "timed out waiting for $what";
	return;
}

# The lookups of a table, captured over at least this many intervals and calls.
sub captured
{
	my ($t, $intervals, $calls) = @_;
	return qq{(SELECT count(DISTINCT s.capture_id) >= $intervals AND sum(s.calls) >= $calls
	             FROM pipeopt.samples s JOIN pipeopt.statements st ON st.fingerprint = s.fingerprint
	            WHERE st.query = 'SELECT count(*) FROM $t WHERE customer = \$1')};
}

# --- a useful index, approved by policy: applied, improved, verified ---
run_until('faster', captured('faster', 4, 150), 'the baseline of table faster');
$node->safe_psql('postgres', q{
  SELECT pipeopt.set_automation('create_index', 'automatic', 0.5);
  WITH a AS (
    INSERT INTO pipeopt.advice (kind, relid, target, target_key, saving_ms_per_hour, confidence, risk, reason)
    VALUES ('create_index', 'faster'::regclass,
            jsonb_build_object('relid', 'faster'::regclass::oid, 'method', 'btree', 'attnums', '[2]'::jsonb),
            'faster:customer', 1000, 0.9, 'low', 'lookups by customer')
    RETURNING id)
  INSERT INTO pipeopt.advice_statements
  SELECT a.id, s.fingerprint, 100, 5, 1000, 10, 1000, 1000
    FROM a, pipeopt.statements s WHERE s.query = 'SELECT count(*) FROM faster WHERE customer = $1';
});
run_until('faster', q{(SELECT status = 'verified' FROM pipeopt.advice WHERE relid = 'faster'::regclass)},
	'the new index to be verified');
is($node->safe_psql('postgres', q{
    SELECT v.verdict || ' ' || (v.change_pct < -50) || ' ' || (v.p_value < 0.05) || ' ' || v.basis || ' '
           || l.automatic || ' ' || (v.actual_saving_ms_per_hour > 0)
      FROM pipeopt.verification v JOIN pipeopt.change_log l ON l.id = v.change_id
     WHERE v.kind = 'create_index'}),
  'improved true true recommendation true true',
  'the index applied by policy made its lookups faster, significantly: improved, with the saving measured');

# --- a useful index dropped by policy: regressed, reverted by the worker ---
my $definition = $node->safe_psql('postgres', "SELECT pg_get_indexdef('slower_customer'::regclass)");
run_until('slower', captured('slower', 4, 150), 'the baseline of table slower');
$node->safe_psql('postgres', q{
  SELECT pipeopt.set_automation('drop_index', 'automatic', 0.9);
  INSERT INTO pipeopt.advice (kind, relid, target, target_key, estimated_bytes, confidence, risk, reason)
  VALUES ('drop_index', 'slower'::regclass,
          jsonb_build_object('relid', 'slower'::regclass::oid, 'indexrelid', 'slower_customer'::regclass::oid,
                             'rule', 'unused-index'),
          'slower:customer', 1000000, 0.99, 'low', 'thought unused');
});
run_until('slower', q{(SELECT status IN ('applied', 'reverting', 'reverted')
                         FROM pipeopt.advice WHERE relid = 'slower'::regclass)},
	'the drop to be applied by policy');
ok(1, 'the worker approved and applied the drop by policy');
run_until('slower', q{(SELECT status = 'reverted' FROM pipeopt.advice WHERE relid = 'slower'::regclass)},
	'the monitor to revert the drop');

is($node->safe_psql('postgres', "SELECT pg_get_indexdef('slower_customer'::regclass)"),
	$definition, 'the index is back, as it was');
is($node->safe_psql('postgres', q{
    SELECT v.verdict || ' ' || (v.change_pct > 100) || ' ' || v.basis || ' ' || v.reverted || ' '
           || (v.revert_change_id = r.id) || ' ' || v.revert_outcome
      FROM pipeopt.verification v
      JOIN pipeopt.change_log r ON r.advice_id = v.advice_id AND r.action = 'rollback'
     WHERE v.kind = 'drop_index'}),
  'regressed true table true true succeeded',
  'the drop regressed the statements on its table; the verification names the rollback that reverted it');
is($node->safe_psql('postgres', q{
    SELECT l.requested_by || ' | ' || l.outcome || ' | ' || l.reason
      FROM pipeopt.change_log l
     WHERE l.action = 'rollback' AND l.kind = 'drop_index'}),
  'pipeopt monitor | succeeded | reverted automatically: slower by more than pipeopt.revert_threshold (10%), '
  . 'significantly (the affected statements)',
  'change_log records who reverted it and why');
like($node->safe_psql('postgres', q{
    SELECT l.ddl FROM pipeopt.change_log l WHERE l.action = 'rollback' AND l.kind = 'drop_index'}),
	qr/^CREATE INDEX CONCURRENTLY slower_customer ON public\.slower USING btree \(customer /,
	'the rollback recreated it from its record');
like($node->safe_psql('postgres', q{SELECT status_reason FROM pipeopt.advice WHERE relid = 'slower'::regclass}),
	qr/^rolled back at the request of pipeopt monitor/, 'the recommendation says who rolled it back');
is($node->safe_psql('postgres', q{
    SELECT kind || ':' || judged || ':' || regressed || ':' || reverted || ':' || confidence_factor
      FROM pipeopt.prediction_accuracy WHERE kind = 'drop_index'}),
  'drop_index:1:1:1:0.800', 'the regression lowers the confidence of future drops');
note($node->safe_psql('postgres', q{SELECT kind || ': ' || verdict || ': ' || detail FROM pipeopt.verification ORDER BY change_id}));
is($node->safe_psql('postgres', q{SELECT count(*) FROM pipeopt.capture_failures}),
	'0', 'no step of a tick failed');

$node->stop;
done_testing();
