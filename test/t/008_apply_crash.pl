# The apply worker interrupted in the middle of CREATE INDEX CONCURRENTLY:
# by kill -9 of the worker (the postmaster then restarts every process) and
# by a crash of the whole server. After the restart, no INVALID index is
# left, nothing was applied twice, and nothing approved was lost: the
# interrupted change is recorded as a failed attempt, its INVALID index
# dropped, and the change retried until applied.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('apply_crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pipeopt.sample_interval = 1
pipeopt.advise_interval = 0
pipeopt.apply_retry_delay = 1
pipeopt.apply_lock_timeout = 600000
restart_after_crash = on
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
$node->safe_psql('postgres', q{
  CREATE TABLE t (id int PRIMARY KEY, a int, b int, c int);
  INSERT INTO t SELECT g, g % 100, g % 50, g % 7 FROM generate_series(1, 50000) g;
  INSERT INTO pipeopt.advice (kind, relid, target, target_key, reason)
  SELECT 'create_index', 't'::regclass,
         jsonb_build_object('relid', 't'::regclass::oid, 'method', 'btree', 'attnums', jsonb_build_array(n)),
         'crash:' || n, 'column ' || n
    FROM generate_series(2, 4) n;
  INSERT INTO pipeopt.advice (kind, relid, target, target_key, reason)
  VALUES ('create_index', 't'::regclass,
          jsonb_build_object('relid', 't'::regclass::oid, 'method', 'btree', 'attnums', '[2, 3]'::jsonb),
          'crash:2,3', 'columns a, b');
});

# ids 1, 2, 3: indexes on a, b, c; 4: on (a, b)
sub advice
{
	my ($id) = @_;
	return $node->safe_psql('postgres', "SELECT status FROM pipeopt.advice WHERE id = $id");
}

# Hold a row lock's table lock in an open transaction: CREATE INDEX
# CONCURRENTLY creates its INVALID index, then waits for it.
sub block_table
{
	my $blocker = $node->background_psql('postgres', on_error_stop => 0);
	$blocker->query_safe('BEGIN');
	$blocker->query_safe('INSERT INTO t VALUES (100001, 1, 1, 1)');
	return $blocker;
}

# The apply worker's pid once it waits inside CREATE INDEX CONCURRENTLY.
sub wait_for_build
{
	$node->poll_query_until('postgres', q{
	  SELECT count(*) = 1 FROM pg_stat_activity a
	   WHERE a.backend_type = 'pipeopt apply' AND a.wait_event_type = 'Lock'
	     AND a.query ~ '^CREATE INDEX CONCURRENTLY'})
	  or die 'the apply worker never started building';
	is($node->safe_psql('postgres', q{
	    SELECT count(*) FROM pg_index i WHERE i.indrelid = 't'::regclass AND NOT i.indisvalid}),
	  '1', 'mid-build: the INVALID index exists');
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pipeopt apply'");
}

sub crash_restarted
{
	my ($log_offset) = @_;
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
	$node->poll_query_until('postgres', 'SELECT true') or die 'no crash restart';
}

# --- kill -9 of the apply worker in the middle of the build ---
my $blocker = block_table();
$node->safe_psql('postgres', "SELECT pipeopt.approve(1, 'index a')");
my $pid = wait_for_build();
is(advice(1), 'applying', 'the claim was committed before the build');
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
crash_restarted($log_offset);
eval { $blocker->quit; };

$node->poll_query_until('postgres', "SELECT status = 'applied' FROM pipeopt.advice WHERE id = 1")
  or die 'recommendation 1 was never applied after the kill';
is($node->safe_psql('postgres', q{
    SELECT string_agg(attempt || ':' || outcome || ':' || (cleanup IS NOT NULL), ',' ORDER BY id)
      FROM pipeopt.change_log WHERE advice_id = 1}),
  '1:failed:true,2:succeeded:false',
  'kill -9: the interrupted attempt failed, its INVALID index was dropped, the retry succeeded');
like($node->safe_psql('postgres', "SELECT cleanup FROM pipeopt.change_log WHERE advice_id = 1 AND attempt = 1"),
	qr/dropped the INVALID index/, 'the cleanup is recorded');

# --- a crash of the whole server in the middle of the build; a second
# --- approved change waits its turn ---
$blocker = block_table();
$node->safe_psql('postgres', "SELECT pipeopt.approve(2, 'index b')");
$pid = wait_for_build();
$node->safe_psql('postgres', "SELECT pipeopt.approve(3, 'index c')");
$node->stop('immediate');
eval { $blocker->quit; };
$node->start;

$node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM pipeopt.advice WHERE id IN (2, 3) AND status = 'applied'")
  or die 'recommendations 2 and 3 were not applied after the crash';
is($node->safe_psql('postgres', q{
    SELECT string_agg(advice_id || ':' || attempt || ':' || outcome, ',' ORDER BY advice_id, id)
      FROM pipeopt.change_log WHERE advice_id IN (2, 3)}),
  '2:1:failed,2:2:succeeded,3:1:succeeded',
  'server crash: the interrupted attempt failed and was retried; the waiting approval was kept');

# --- a lock held too long: the worker gives up the attempt, cancels no one,
# --- and applies the change once the lock is gone ---
$node->safe_psql('postgres', "ALTER SYSTEM SET pipeopt.apply_lock_timeout = '300ms'");
$node->reload;
$blocker = block_table();
$node->safe_psql('postgres', "SELECT pipeopt.approve(4, 'index a, b')");
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pipeopt.change_log WHERE advice_id = 4 AND outcome = 'failed'")
  or die 'the attempt under a held lock never gave up';
like($node->safe_psql('postgres', "SELECT error FROM pipeopt.change_log WHERE advice_id = 4 ORDER BY id LIMIT 1"),
	qr/lock timeout/, 'the attempt gave up on lock_timeout');
is($blocker->query_safe('SELECT count(*) FROM t WHERE id = 100001'), '1',
	'the session holding the lock was not cancelled');
$blocker->query_safe('COMMIT');
$blocker->quit;
$node->poll_query_until('postgres', "SELECT status = 'applied' FROM pipeopt.advice WHERE id = 4")
  or die 'recommendation 4 was never applied once the lock was gone';

# --- what is left ---
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND NOT indisvalid}),
  '0', 'no INVALID index remains');
is($node->safe_psql('postgres', q{
    SELECT string_agg(pg_get_indexdef(indexrelid), '; ' ORDER BY pg_get_indexdef(indexrelid))
      FROM pg_index WHERE indrelid = 't'::regclass AND indexrelid::regclass::text ~ '_pipeopt_'}),
  'CREATE INDEX t_a_b_pipeopt_4 ON public.t USING btree (a, b); '
  . 'CREATE INDEX t_a_pipeopt_1 ON public.t USING btree (a); '
  . 'CREATE INDEX t_b_pipeopt_2 ON public.t USING btree (b); '
  . 'CREATE INDEX t_c_pipeopt_3 ON public.t USING btree (c)',
  'each approved index exists once');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM pipeopt.change_log WHERE outcome = 'running'}),
  '0', 'no change is left running');

$node->stop;
done_testing();
