# The labelled corpus (test/corpus/labelled.tsv): every statement as written
# and normalized as pg_stat_statements stores it, scored by
# test/corpus/score.sql. Target of the analysis stage: precision and recall
# of at least 0.95 overall. The table per rule is printed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{PIPEOPT_SRC} // '.';
my $node = PostgreSQL::Test::Cluster->new('corpus');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
# the tables the catalog rules see (the corpus statements are never run)
$node->safe_psql('postgres', "\\i $src/test/corpus/schema.sql");
$node->safe_psql('postgres',
	'CREATE TABLE corpus (n serial, raw_labels text, normalized_labels text, sql text)');
$node->safe_psql('postgres',
	"COPY corpus (raw_labels, normalized_labels, sql) FROM '$src/test/corpus/labelled.tsv'");

my $n = $node->safe_psql('postgres', 'SELECT count(*) FROM corpus');
cmp_ok($n, '>=', 150, "the corpus holds at least 150 statements ($n, each scored raw and normalized)");

my ($ret, $out, $err) = $node->psql('postgres', undef,
	extra_params => [ '-X', '-f', "$src/test/corpus/score.sql" ]);
is($ret, 0, 'score.sql runs') or diag($err);
diag("\n$out");

# corpus_scored is a temporary table of that session: score again, then read it
($ret, $out, $err) = $node->psql('postgres',
	"\\i $src/test/corpus/score.sql\n"
	  . q{SELECT 'overall|' || round(count(*) FILTER (WHERE expected AND predicted)::numeric
               / nullif(count(*) FILTER (WHERE predicted), 0), 3) || '|' ||
         round(count(*) FILTER (WHERE expected AND predicted)::numeric
               / nullif(count(*) FILTER (WHERE expected), 0), 3) FROM corpus_scored;});
my ($precision, $recall) = $out =~ /^overall\|([0-9.]+)\|([0-9.]+)$/m;
ok(defined $precision, 'overall precision and recall computed') or diag($out, $err);
cmp_ok($precision, '>=', 0.95, "overall precision $precision");
cmp_ok($recall, '>=', 0.95, "overall recall $recall");

$node->stop;
done_testing();
