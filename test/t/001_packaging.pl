# Packaging: META.json agrees with the control file, and libpg_query is
# linked symbol-isolated (pipeopt.so defines no global symbol that the
# server also defines).
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{PIPEOPT_SRC} // '.';

sub slurp { my ($f) = @_; open my $fh, '<', $f or die "$f: $!"; local $/; return <$fh>; }

# --- META.json against pipeopt.control ------------------------------------
my $control = slurp("$src/pipeopt.control");
my ($default_version) = $control =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $default_version, 'control file has a default_version');

my $meta = slurp("$src/META.json");
my ($meta_version) = $meta =~ /^\s{3}"version"\s*:\s*"([^"]+)"/m;
my ($provides_version) = $meta =~ /"provides".*?"version"\s*:\s*"([^"]+)"/s;
my ($meta_spec) = $meta =~ /"meta-spec".*?"version"\s*:\s*"([^"]+)"/s;
is($meta_spec, '1.0.0', 'META.json follows PGXN meta spec 1.0.0');
like($meta_version, qr/^\d+\.\d+\.\d+$/, 'META.json version is semantic');
is($provides_version, $meta_version, 'provides.pipeopt.version matches the distribution version');
is(join('.', (split /\./, $meta_version)[0, 1]), $default_version,
	'META.json version matches the control file default_version');
my ($file) = $meta =~ /"file"\s*:\s*"([^"]+)"/;
ok(-f "$src/$file", "META.json names a file of the distribution ($file)");
like($file, qr{^src/sql/\Q$default_version\E/}, 'from the sources of the default version');

my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
ok(-f "$sharedir/extension/pipeopt--$default_version.sql",
	'the install script of the default version is installed');

# --- symbol isolation -----------------------------------------------------
my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
my $bindir = `pg_config --bindir`;
chomp $bindir;
my $so = "$pkglibdir/pipeopt.so";
ok(-f $so, "installed $so");

sub defined_globals
{
	my ($file) = @_;
	my %syms;
	for (`nm -D --defined-only $file`)
	{
		my @f = split;
		$syms{ $f[2] } = 1 if @f == 3 && $f[1] =~ /^[A-Z]$/;
	}
	return \%syms;
}

my $ours = defined_globals($so);
my $server = defined_globals("$bindir/postgres");
ok(scalar(keys %$server) > 1000, 'the server binary exports its symbols');
ok((grep { /\bpg_query_fingerprint$/ } `nm --defined-only $so`),
	'pipeopt.so carries libpg_query (pg_query_fingerprint, a local symbol)');
my @clash = sort grep { exists $server->{$_} } keys %$ours;
is_deeply(\@clash, [], 'pipeopt.so defines no global symbol that the server defines');
for my $sym (qw(palloc pfree CurrentMemoryContext raw_parser MemoryContextInit
	errstart errfinish list_make1_impl copyObjectImpl base_yyparse))
{
	ok(!exists $ours->{$sym}, "pipeopt.so does not define $sym");
}
my @foreign = sort grep { !/^(pg_finfo_|pipeopt_|_PG_init$|Pg_magic_func$)/ } keys %$ours;
is_deeply(\@foreign, [], 'pipeopt.so exports only pipeopt_* and the module entry points');

# The offline command links libpg_query as an ordinary library.
ok(-x "$bindir/pipeopt-lint", 'pipeopt-lint is installed next to the server binaries');

done_testing();
