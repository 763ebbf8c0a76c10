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

# Import the lz4 frame (made by the lz4 tool) of a text; return psql's stderr.
sub import_lz4_of
{
	my ($name, $text) = @_;
	open my $out, '>', "$dir/$name.txt" or die $!;
	print $out $text;
	close $out;
	IPC::Run::run([ 'lz4', '-q', '-f', "$dir/$name.txt", "$dir/$name.lz4" ]) or die 'lz4 failed';
	open my $in, '<:raw', "$dir/$name.lz4" or die $!;
	my $raw = do { local $/; <$in> };
	close $in;
	my ($ret, $o, $e) = $node->psql('postgres',
		"SELECT * FROM pipeopt.import_workload('\\x" . unpack('H*', $raw) . "'::bytea)");
	return $e;
}

like(import_lz4_of('other', "{\"hello\": \"world\"}\n"),
	qr/ERROR:  not a pipeopt workload bundle/, 'a foreign lz4 file is refused');
like(import_lz4_of('bad', "{\"format\": \"pipeopt-workload\", \"version\": 1}\nnot json\n"),
	qr/ERROR:  corrupt workload bundle: a record is not valid JSON/, 'a record that is not JSON is refused');
like(import_lz4_of('v9', "{\"format\": \"pipeopt-workload\", \"version\": 9}\n{\"type\": \"end\", \"records\": 0}\n"),
	qr/ERROR:  unsupported workload bundle version 9/, 'a newer format version is refused');
like(import_lz4_of('cut', "{\"format\": \"pipeopt-workload\", \"version\": 1}\n{\"type\": \"capture\", \"capture_id\": 1}\n"),
	qr/ERROR:  corrupt workload bundle: it is truncated/, 'a bundle without its end record is refused');

$node->stop;
done_testing();
