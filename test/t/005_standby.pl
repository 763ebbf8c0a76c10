# Standbys: no pipeopt process runs during recovery, capture() says why it
# cannot run there, the primary's history replicates, and after promotion
# the launcher starts a worker that samples.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pipeopt.sample_interval = 1
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
$primary->poll_query_until('postgres', 'SELECT count(*) >= 2 FROM pipeopt.captures')
  or die 'primary does not capture';
$primary->backup('b');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pipeopt%'}),
	'0', 'no pipeopt process runs on a standby');
cmp_ok($standby->safe_psql('postgres', 'SELECT count(*) FROM pipeopt.captures'),
	'>=', 2, "the primary's history is readable on the standby");
my ($ret, $out, $err) = $standby->psql('postgres', 'SELECT * FROM pipeopt.capture()');
like($err, qr/ERROR:  pipeopt cannot capture on a standby.*HINT:  Run pipeopt.capture\(\) on the primary/s,
	'capture() on a standby explains itself');

$primary->stop;
$standby->promote;
$standby->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pipeopt worker'})
  or die 'no worker after promotion';
ok(1, 'after promotion the launcher starts a worker');
my $c = $standby->safe_psql('postgres', 'SELECT max(capture_id) FROM pipeopt.captures');
$standby->poll_query_until('postgres', "SELECT max(capture_id) > $c FROM pipeopt.captures")
  or die 'promoted server does not capture';
ok(1, 'and it captures');

$standby->stop;
done_testing();
