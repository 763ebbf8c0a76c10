# pipeopt-lint, the offline command: output formats, exit statuses, bad
# input, and the same findings as pipeopt.lint() in a server (one rule
# engine, two homes).
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bindir = `pg_config --bindir`;
chomp $bindir;
my $lint = "$bindir/pipeopt-lint";
my $dir = PostgreSQL::Test::Utils::tempdir;

sub write_file
{
	my ($name, $content) = @_;
	open my $fh, '>:raw', "$dir/$name" or die $!;
	print $fh $content;
	close $fh;
	return "$dir/$name";
}

# Run pipeopt-lint; returns (exit status, stdout, stderr).
sub run_lint
{
	my ($args, $stdin) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $lint, @$args ], '<', \($stdin // ''), '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $sql = "SELECT o.id, c.name\n  FROM orders o, customers c;\nDELETE FROM staging;\nSELEC 1;\nSELECT id FROM t WHERE name LIKE \$1 LIMIT 5;\n";
my $file = write_file('workload.sql', $sql);

# --- text: file:line:col: severity: rule: message --------------------------
my ($rc, $out, $err) = run_lint([$file]);
is($rc, 1, 'findings at warning or above: exit status 1');
my @lines = split /\n/, $out;
like($lines[0], qr{^\Q$file\E:2:8: error: cartesian-product: the FROM list joins 2 groups}, 'compiler-style line, lines and columns from 1');
ok((grep { /:3:13: warning: update-or-delete-without-where: DELETE without WHERE removes every row of staging$/ } @lines), 'second statement');
ok((grep { /:4:1: error: parse-error: syntax error at or near "SELEC"$/ } @lines), 'a statement that does not parse');
ok((grep { /:5:\d+: info: leading-wildcard-like: .*\(undecided\)$/ } @lines), 'undecided findings are info');
ok((grep { /:5:\d+: info: limit-without-order-by:/ } @lines), 'the statement after the broken one is linted');

# --- json -------------------------------------------------------------------
($rc, $out) = run_lint([ '--format', 'json', $file ]);
my $findings = eval { decode_json($out) };
ok(defined $findings, 'JSON output parses') or diag($out);
is(scalar(@$findings), scalar(@lines), 'the same findings as the text output');
my ($cart) = grep { $_->{rule} eq 'cartesian-product' } @$findings;
is_deeply([ $cart->{line}, $cart->{column}, $cart->{severity}, $cart->{evidence}{pieces} ],
	[ 2, 8, 'error', [ ['o'], ['c'] ] ], 'a finding in JSON: position, severity, evidence');

# --- SARIF 2.1.0 ----------------------------------------------------------------
($rc, $out) = run_lint([ '--format', 'sarif', $file ]);
my $sarif = eval { decode_json($out) };
ok(defined $sarif, 'SARIF output parses') or diag($out);
is($sarif->{version}, '2.1.0', 'SARIF version 2.1.0');
my $run = $sarif->{runs}[0];
is($run->{tool}{driver}{name}, 'pipeopt-lint', 'the tool names itself');
ok((grep { $_->{id} eq 'not-in-subquery' && $_->{help}{text} =~ /NOT EXISTS/ } @{ $run->{tool}{driver}{rules} }),
	'every rule is described, with its fix');
is(scalar(@{ $run->{results} }), scalar(@lines), 'one result per finding');
my ($res) = grep { $_->{ruleId} eq 'cartesian-product' } @{ $run->{results} };
is_deeply([ $res->{level}, $res->{locations}[0]{physicalLocation}{region}{startLine},
		$res->{locations}[0]{physicalLocation}{region}{startColumn},
		$run->{tool}{driver}{rules}[ $res->{ruleIndex} ]{id} ],
	[ 'error', 2, 8, 'cartesian-product' ], 'a result: level, region, rule index');
ok((grep { $_->{level} eq 'note' } @{ $run->{results} }), 'info findings are SARIF notes');
# artifact locations are URIs: a space, '#' and '%' in a file name are percent-encoded
($rc, $out) = run_lint([ '--format', 'sarif', write_file('a b#1%.sql', "DELETE FROM t;\n") ]);
$sarif = eval { decode_json($out) };
like($sarif->{runs}[0]{results}[0]{locations}[0]{physicalLocation}{artifactLocation}{uri},
	qr{/a%20b%231%25\.sql$}, 'SARIF: the file name is percent-encoded in the URI');

# --- exit statuses and --fail-on ---------------------------------------------
($rc) = run_lint([ '--fail-on', 'error', write_file('warn.sql', "DELETE FROM t;\n") ]);
is($rc, 0, '--fail-on error: warnings alone exit 0');
($rc) = run_lint([ '--fail-on', 'info', write_file('info.sql', "SELECT id FROM t LIMIT 1;\n") ]);
is($rc, 1, '--fail-on info: an info finding exits 1');
($rc, $out) = run_lint([ write_file('clean.sql', "SELECT id FROM t WHERE id = 1;\n") ]);
is($rc, 0, 'a clean file exits 0');
is($out, '', 'and prints nothing');
($rc, $out) = run_lint([ '--disable', 'update-or-delete-without-where' ], "DELETE FROM t;\n");
is($rc, 0, '--disable turns a rule off (input from stdin)');
($rc, $out, $err) = run_lint([ '--disable', 'no-such-rule' ], '');
is($rc, 2, 'an unknown rule is a usage error');
($rc, $out, $err) = run_lint(['--bogus'], '');
is($rc, 2, 'an unknown option is a usage error');
($rc, $out, $err) = run_lint(["$dir/missing.sql"]);
is($rc, 2, 'a missing file exits 2');
like($err, qr/cannot read ".*missing.sql": No such file or directory/, 'and says why');
($rc, $out) = run_lint(['--list-rules']);
like($out, qr/^select-star\s+query\s+warning\s/m, '--list-rules lists the rules');

# --- bad input: a finding or nothing, never a crash or a hang ----------------
($rc, $out) = run_lint([], "SELECT 1\0; DROP TABLE x;");
like($out, qr/parse-error: the input contains a NUL byte/, 'binary input');
($rc, $out) = run_lint([], "SELECT '\xff\xfe'");
like($out, qr/parse-error: the input is not valid UTF-8/, 'invalid UTF-8');
($rc, $out) = run_lint([], '');
is($rc, 0, 'empty input is clean');
($rc, $out) = run_lint([], 'SELECT ' . ('(' x 100000) . '1' . (')' x 100000));
like($out, qr/parse-error: memory exhausted/, '100,000-deep nesting is a parse error');
($rc, $out) = run_lint([], 'SELECT ' . ('a + ' x 250000) . "1 FROM t;\nDELETE FROM t;");
like($out, qr/update-or-delete-without-where/, 'a 1 MB statement is linted');
($rc, $out) = run_lint([], "DO \$\$ BEGIN PERFORM 1; END \$\$; CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS \$b\$ BEGIN RETURN (SELECT count(*) FROM t); END \$b\$;");
is($rc, 0, 'PL/pgSQL bodies are statements, not findings');

# --- the same findings as pipeopt.lint() -------------------------------------
my $node = PostgreSQL::Test::Cluster->new('lint');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pipeopt.sample_interval = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
my $corpus = join(";\n",
	'SELECT * FROM a, b',
	'SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)',
	'SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) FROM customers c',
	"SELECT id FROM products WHERE name ILIKE '%x' ORDER BY random() LIMIT 3 OFFSET 5000",
	'SELECT customer_id FROM orders GROUP BY customer_id HAVING customer_id > 1',
	'SELECT (SELECT count(*) FROM t WHERE a = $1) > 0',
	'UPDATE t SET a = 1',
	'SELEC broken',
	'SELECT id FROM t WHERE id IN (' . join(', ', map { "\$$_" } 1 .. 60) . ')');
write_file('corpus.sql', $corpus);
($rc, $out) = run_lint([ '--format', 'json', '--fail-on', 'error', "$dir/corpus.sql" ]);
my @cli = sort map { "$_->{statement}|$_->{rule}|$_->{severity}|" . ($_->{offset} + 1) } @{ decode_json($out) };
(my $quoted = $corpus) =~ s/'/''/g;
my @server = sort split /\n/, $node->safe_psql('postgres',
	"SELECT statement || '|' || rule || '|' || severity || '|' || location FROM pipeopt.lint('$quoted')");
ok(scalar(@cli) >= 12, 'the corpus has findings (' . scalar(@cli) . ')');
is_deeply(\@cli, \@server, 'pipeopt-lint and pipeopt.lint() find the same things at the same places');

# --- a workload bundle: statements linted with their runtime evidence ----------
$node->safe_psql('postgres', 'CREATE TABLE ev (id int PRIMARY KEY, v text); SELECT pipeopt.capture()');
$node->safe_psql('postgres',
	join('', map { "INSERT INTO ev VALUES ($_, 'x');\n" } 1 .. 1100));
$node->safe_psql('postgres', q{SELECT * FROM ev WHERE id NOT IN (SELECT id FROM ev WHERE v = 'y')});
$node->safe_psql('postgres', 'SELECT pipeopt.capture(); SELECT pipeopt.analyze()');
my $hex = $node->safe_psql('postgres', 'SELECT pipeopt.export_workload()');
$hex =~ s/^\\x//;
my $bundle = write_file('workload.lz4', pack('H*', $hex));
($rc, $out) = run_lint([ '--format', 'json', '--fail-on', 'error', $bundle ]);
my $offline = decode_json($out);
my ($rbr) = grep { $_->{rule} eq 'row-by-row-insert' } @$offline;
ok(defined $rbr, 'a bundle gives the runtime findings offline');
like($rbr->{file}, qr/workload\.lz4#[0-9a-f]{16}$/, 'each finding names its statement by fingerprint');
my @offline_rules = sort map { ($_->{file} =~ /#(\w+)$/)[0] . "|$_->{rule}" } @$offline;
my @server_rules = sort split /\n/, $node->safe_psql('postgres', q{
  SELECT fingerprint || '|' || rule FROM pipeopt.statement_findings
   WHERE fingerprint IN (SELECT s.fingerprint FROM pipeopt.samples s)});
is_deeply(\@offline_rules, \@server_rules, 'the same findings as pipeopt.analyze() in the server');
write_file('cut.lz4', substr(pack('H*', $hex), 0, 60));
($rc, $out, $err) = run_lint(["$dir/cut.lz4"]);
is($rc, 2, 'a truncated bundle is an input error');
like($err, qr/corrupt workload bundle/, 'and says so');
$node->stop;

done_testing();
