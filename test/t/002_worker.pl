# The background workers: a db worker samples on its interval, follows
# reloads of pipeopt.sample_interval, survives a failed tick without losing
# history, goes away with the extension, comes back with it, is restarted by
# the launcher, and does not block DROP DATABASE.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pipeopt.sample_interval = 1
pipeopt.capture_lock_timeout = 200
});
$node->start;

my $worker_pid_sql = q{SELECT pid FROM pg_stat_activity
  WHERE backend_type = 'pipeopt worker' AND datname = 'postgres'};

$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
$node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM ($worker_pid_sql) w})
  or die 'worker did not start after CREATE EXTENSION';
ok(1, 'CREATE EXTENSION starts a worker in its database');
is($node->safe_psql('postgres', q{SELECT state FROM pipeopt.workers() WHERE datname = 'postgres'}),
	'running', 'pipeopt.workers() shows it running');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pipeopt launcher'}),
	'1', 'the launcher runs');

# --- it samples on its interval ------------------------------------------
$node->poll_query_until('postgres', 'SELECT count(*) >= 2 FROM pipeopt.captures')
  or die 'no captures';
# the index advisor runs on the worker's first tick, then every advise_interval
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pipeopt.advisor_runs WHERE advisor = 'index'})
  or die 'the worker did not run the index advisor';
ok(1, 'the worker runs the index advisor');
$node->safe_psql('postgres', 'CREATE TABLE w (a int)');
$node->safe_psql('postgres', 'SELECT count(*) FROM w WHERE a = ' . $_) for 1 .. 5;
my $calls_sql = q{SELECT coalesce(sum(s.calls), 0) FROM pipeopt.samples s
  JOIN pipeopt.statements st USING (fingerprint)
  WHERE st.query = 'SELECT count(*) FROM w WHERE a = $1'};
$node->poll_query_until('postgres', "SELECT ($calls_sql) = 5")
  or die 'the worker did not record the 5 calls';
ok(1, 'the worker records a statement run 5 times with 5 calls');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pipeopt.statements WHERE query LIKE '%pipeopt.capture()%'}),
	'0', "the worker's own statements are not part of the workload");

my $c0 = $node->safe_psql('postgres', 'SELECT count(*) FROM pipeopt.captures');
$node->poll_query_until('postgres', "SELECT count(*) >= $c0 + 3 FROM pipeopt.captures")
  or die 'the worker does not keep sampling';
ok(1, 'the worker keeps sampling every interval');

# --- reload: interval 0 stops the ticks, 1 brings them back ----------------
$node->safe_psql('postgres', 'ALTER SYSTEM SET pipeopt.sample_interval = 0');
$node->reload;
sleep 2;    # let a tick that was under way finish
my $c1 = $node->safe_psql('postgres', 'SELECT count(*) FROM pipeopt.captures');
sleep 3;
is($node->safe_psql('postgres', 'SELECT count(*) FROM pipeopt.captures'), $c1,
	'after a reload to 0 the worker stops sampling');
$node->safe_psql('postgres', 'ALTER SYSTEM SET pipeopt.sample_interval = 1');
$node->reload;
$node->poll_query_until('postgres', "SELECT count(*) > $c1 FROM pipeopt.captures")
  or die 'no captures after reload';
ok(1, 'after a reload to 1 it samples again');

# --- a failed tick is logged, recorded, retried; nothing is lost -----------
my $pid = $node->safe_psql('postgres', $worker_pid_sql);
my $log_offset = -s $node->logfile;
my $blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN');
$blocker->query_safe('LOCK TABLE pipeopt.capture_state IN ACCESS EXCLUSIVE MODE');
$node->poll_query_until('postgres',
	q{SELECT count(*) >= 2 FROM pipeopt.capture_failures WHERE sqlstate = '55P03'})
  or die 'no failed tick recorded';
ok(1, 'a tick that cannot take its lock fails and is recorded in capture_failures');
ok($node->log_contains(qr/WARNING:  pipeopt capture failed in database "postgres": canceling statement due to lock timeout/,
		$log_offset), 'the failure is logged with a WARNING');
$node->safe_psql('postgres', 'SELECT count(*) FROM w WHERE a = ' . $_) for 1 .. 3;
$blocker->query_safe('COMMIT');
$blocker->quit;
$node->poll_query_until('postgres', "SELECT ($calls_sql) = 8")
  or die 'calls made during the failed ticks were lost';
ok(1, 'calls made while ticks failed are recorded by the next tick');
is($node->safe_psql('postgres', $worker_pid_sql), $pid, 'the same worker survived the failures');
cmp_ok($node->safe_psql('postgres',
		q{SELECT failures FROM pipeopt.workers() WHERE datname = 'postgres'}),
	'>=', 2, 'pipeopt.workers() counts the failed ticks');

# --- the launcher restarts a worker that went away --------------------------
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres',
	qq{SELECT count(*) = 1 FROM ($worker_pid_sql) w WHERE w.pid <> $pid})
  or die 'worker not restarted';
ok(1, 'the launcher starts a new worker after the old one was terminated');

# --- gone with the extension, back with it --------------------------------
$node->safe_psql('postgres', 'DROP EXTENSION pipeopt');
$node->poll_query_until('postgres', qq{SELECT count(*) = 0 FROM ($worker_pid_sql) w})
  or die 'worker still there after DROP EXTENSION';
ok(1, 'DROP EXTENSION makes the worker exit');
$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt');
$node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM ($worker_pid_sql) w})
  or die 'worker not back after CREATE EXTENSION';
ok(1, 'CREATE EXTENSION brings a worker back');

# --- databases without the extension get none; DROP DATABASE is not blocked
$node->safe_psql('postgres', 'CREATE DATABASE plain');
$node->safe_psql('postgres', 'CREATE DATABASE tracked');
$node->safe_psql('tracked', 'CREATE EXTENSION pipeopt CASCADE');
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
  WHERE backend_type = 'pipeopt worker' AND datname = 'tracked'})
  or die 'no worker in database tracked';
sleep 11;    # a launcher scan (every 10 s) has passed over database "plain"
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
  WHERE backend_type = 'pipeopt worker' AND datname = 'plain'}),
	'0', 'a database without the extension has no worker');
is($node->safe_psql('postgres', q{SELECT state FROM pipeopt.workers() WHERE datname = 'plain'}),
	'no extension', 'and the launcher remembers why');
$node->safe_psql('postgres', 'ALTER DATABASE tracked RENAME TO tracked2');
ok(1, 'ALTER DATABASE RENAME is not blocked by the worker');
$node->safe_psql('postgres', 'DROP DATABASE tracked2');
ok(1, 'DROP DATABASE is not blocked by the worker');
$node->safe_psql('postgres', 'DROP DATABASE plain');

$node->stop;
done_testing();
