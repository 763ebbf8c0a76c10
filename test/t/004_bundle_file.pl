# Workload bundles as files: the standard lz4 tool reads an exported bundle,
# and an lz4 frame that is not a bundle gets a clear error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('bundle');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pipeopt.sample_interval = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');
$node->safe_psql('postgres', "SELECT 'x' || $_") for 1 .. 3;
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');

my $dir = PostgreSQL::Test::Utils::tempdir;
my $hex = $node->safe_psql('postgres', 'SELECT pipeopt.export_workload()');
$hex =~ s/^\\x//;
open my $fh, '>:raw', "$dir/w.lz4" or die $!;
print $fh pack('H*', $hex);
close $fh;

my ($stdout, $stderr);
my $ok = IPC::Run::run([ 'lz4', '-d', '-c', "$dir/w.lz4" ], '>', \$stdout, '2>', \$stderr);
ok($ok, 'lz4 -d decompresses the bundle') or diag($stderr);
my @lines = split /\n/, $stdout;
like($lines[0], qr/"format" : "pipeopt-workload", "version" : 1/, 'first line is the header');
like($lines[-1], qr/^\{"type": "end", "records": \d+\}$/, 'last line is the end record');
my ($n) = $lines[-1] =~ /"records": (\d+)/;
is($n, scalar(@lines) - 2, 'the end record counts the records between header and end');
ok((grep { /"type" : "statement"/ && /SELECT \$1 \|\| \$2/ } @lines), 'the statement is in the bundle');
ok((grep { /"type": "sample"/ && /"calls": 3/ } @lines), 'its sample with 3 calls is in the bundle');

# An lz4 frame around something else.
open $fh, '>', "$dir/other.txt" or die $!;
print $fh "{\"hello\": \"world\"}\n";
close $fh;
IPC::Run::run([ 'lz4', '-q', '-f', "$dir/other.txt", "$dir/other.lz4" ]) or die 'lz4 failed';
open $fh, '<:raw', "$dir/other.lz4" or die $!;
my $raw = do { local $/; <$fh> };
close $fh;
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT * FROM pipeopt.import_workload('\\x" . unpack('H*', $raw) . "'::bytea)");
like($err, qr/ERROR:  not a pipeopt workload bundle/, 'a foreign lz4 file is refused');

# Not JSON inside.
open $fh, '>', "$dir/bad.txt" or die $!;
print $fh "{\"format\": \"pipeopt-workload\", \"version\": 1}\nnot json\n";
close $fh;
IPC::Run::run([ 'lz4', '-q', '-f', "$dir/bad.txt", "$dir/bad.lz4" ]) or die 'lz4 failed';
open $fh, '<:raw', "$dir/bad.lz4" or die $!;
$raw = do { local $/; <$fh> };
close $fh;
($ret, $out, $err) = $node->psql('postgres',
	"SELECT * FROM pipeopt.import_workload('\\x" . unpack('H*', $raw) . "'::bytea)");
like($err, qr/ERROR:  corrupt workload bundle: a record is not valid JSON/, 'a record that is not JSON is refused');

# A newer format version.
open $fh, '>', "$dir/v9.txt" or die $!;
print $fh "{\"format\": \"pipeopt-workload\", \"version\": 9}\n{\"type\": \"end\", \"records\": 0}\n";
close $fh;
IPC::Run::run([ 'lz4', '-q', '-f', "$dir/v9.txt", "$dir/v9.lz4" ]) or die 'lz4 failed';
open $fh, '<:raw', "$dir/v9.lz4" or die $!;
$raw = do { local $/; <$fh> };
close $fh;
($ret, $out, $err) = $node->psql('postgres',
	"SELECT * FROM pipeopt.import_workload('\\x" . unpack('H*', $raw) . "'::bytea)");
like($err, qr/ERROR:  unsupported workload bundle version 9/, 'a newer format version is refused');

$node->stop;
done_testing();
