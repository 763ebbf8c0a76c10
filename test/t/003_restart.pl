# Counters across restarts and crashes: a clean restart keeps
# pg_stat_statements' counters (deltas go on), a crash loses them (the
# capture detects the reset); never a negative or double-counted delta.
# And without preloading: clear errors, and capture still works on demand.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('restart');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pipeopt.sample_interval = 0
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
$node->safe_psql('postgres', 'CREATE TABLE r (id int PRIMARY KEY); INSERT INTO r VALUES (1)');
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');

sub run_n
{
	my ($n) = @_;
	$node->safe_psql('postgres', 'SELECT id FROM r WHERE id = 1') for 1 .. $n;
}

sub last_capture
{
	return $node->safe_psql('postgres', q{
	  SELECT c.reset_detected, coalesce(sum(s.calls), 0)
	    FROM pipeopt.captures c
	    LEFT JOIN pipeopt.samples s ON s.capture_id = c.capture_id
	     AND s.fingerprint = (SELECT fingerprint FROM pipeopt.statements
	                           WHERE query = 'SELECT id FROM r WHERE id = $1')
	   WHERE c.capture_id = (SELECT max(capture_id) FROM pipeopt.captures)
	   GROUP BY c.reset_detected});
}

run_n(4);
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');
is(last_capture(), 'f|4', 'before any restart: 4 calls');

run_n(3);
$node->restart;
run_n(2);
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');
is(last_capture(), 'f|5', 'clean restart: counters were kept, the delta is 3 + 2');

# An immediate shutdown still lets the postmaster save pg_stat_statements'
# counters (they live in shared memory, which is intact): deltas go on.
run_n(6);
$node->stop('immediate');
$node->start;
run_n(1);
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');
is(last_capture(), 'f|7', 'immediate shutdown: counters were saved, the delta is 6 + 1');

# A backend killed with SIGKILL makes the postmaster reinitialize shared
# memory: pg_stat_statements starts from zero with a new stats_reset.
run_n(2);
my $victim = $node->background_psql('postgres');
my $victim_pid = $victim->query_safe('SELECT pg_backend_pid()');
my $log_offset = -s $node->logfile;
kill 'KILL', $victim_pid;
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
$node->poll_query_until('postgres', 'SELECT true') or die 'no crash restart';
eval { $victim->quit; };
run_n(3);
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');
is(last_capture(), 't|3', 'crash restart: reset detected, only the calls after it counted');

run_n(2);
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');
is(last_capture(), 'f|2', 'the next capture is ordinary again');

is($node->safe_psql('postgres', q{
  SELECT count(*) FROM pipeopt.samples
   WHERE calls < 0 OR rows < 0 OR total_exec_time < 0 OR shared_blks_hit < 0
  UNION ALL
  SELECT count(*) FROM pipeopt.table_samples
   WHERE seq_scan < 0 OR idx_scan < 0 OR n_tup_ins < 0 OR n_tup_upd < 0 OR n_tup_del < 0}),
	"0\n0", 'no negative delta anywhere');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pipeopt.captures WHERE baseline'),
	'1', 'history survived the crashes: still one baseline');
$node->stop;

# --- not preloaded ---------------------------------------------------------
my $bare = PostgreSQL::Test::Cluster->new('bare');
$bare->init;
$bare->start;
$bare->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
my ($ret, $out, $err) = $bare->psql('postgres', 'SELECT * FROM pipeopt.capture()');
isnt($ret, 0, 'capture() fails without pg_stat_statements preloaded');
like($err, qr/ERROR:  pg_stat_statements is not loaded/, 'with a clear message');
like($err, qr/HINT:  Add pg_stat_statements to shared_preload_libraries/, 'and a hint saying what to set');
($ret, $out, $err) = $bare->psql('postgres', 'SELECT * FROM pipeopt.workers()');
like($err, qr/ERROR:  pipeopt is not loaded at server start.*HINT:  Add pipeopt to shared_preload_libraries/s,
	'workers() says pipeopt must be preloaded');
is($bare->safe_psql('postgres', q{SELECT query FROM pipeopt.parse_statement('select 1 where 2 = 3')}),
	'select 1 where 2 = 3', 'parse functions work without preloading');
$bare->stop;

# pg_stat_statements preloaded, pipeopt not: capture works on demand.
$bare->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_stat_statements'");
$bare->start;
$bare->safe_psql('postgres', 'SELECT pipeopt.capture()');
$bare->safe_psql('postgres', 'SELECT 42') for 1 .. 3;
$bare->safe_psql('postgres', 'SELECT pipeopt.capture()');
is($bare->safe_psql('postgres', q{SELECT calls FROM pipeopt.top_statements WHERE query = 'SELECT $1'}),
	'3', 'without preloading pipeopt, capture() works on demand');
is($bare->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pipeopt%'}),
	'0', 'and no worker runs');
$bare->stop;

done_testing();
