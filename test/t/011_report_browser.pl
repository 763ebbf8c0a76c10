# The HTML report in a real browser. On a captured workload around a real
# change (an index applied with apply_now(), and the verdict the
# effectiveness monitor would record), headless Chromium renders the page of
# pipeopt.report_html(), offline:
#   - it loads without a single console message: no script error, no SVG
#     attribute the browser rejects (a NaN coordinate, a negative width),
#     nothing its Content-Security-Policy blocked (anything not inline);
#   - the DOM the browser built has the charts, with their data, and none
#     of the markup hidden in statement texts and table names;
#   - the PNG it renders has the data's colour inside each chart's box,
#     and none in the page's header.
# Two control pages show that the console check and the pixel check fail
# when they should.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Compress::Zlib;

my $chromium = (grep { -x } map { "$_/chromium" } split /:/, "$ENV{PATH}:/usr/bin")[0];
BAIL_OUT('chromium is not installed (scripts/install-deps.sh installs it)') unless $chromium;
my $dir = PostgreSQL::Test::Utils::tempdir;

# Run headless Chromium on a file with extra arguments; returns its stdout
# and the console messages it logged.
sub chromium
{
	my ($file, @args) = @_;
	my ($out, $err) = ('', '');
	my @cmd = ($chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
		'--no-default-browser-check', '--disable-background-networking', '--disable-component-update',
		'--disable-sync', '--disable-extensions', '--disable-default-apps', '--hide-scrollbars',
		'--force-device-scale-factor=1', '--window-size=1000,2200', "--user-data-dir=$dir/profile",
		'--enable-logging=stderr', '--v=0', @args, "file://$file");
	local $ENV{HOME} = $dir;
	local $ENV{XDG_CONFIG_HOME} = "$dir/config";
	local $ENV{XDG_CACHE_HOME} = "$dir/cache";
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(180))
	  or die "chromium failed on $file: $err";
	my @console = grep { /:CONSOLE[:(]/ } split /\n/, $err;
	return ($out, \@console);
}

# An 8-bit, non-interlaced RGB or RGBA PNG: width, height, bytes per
# pixel, rows (byte strings).
sub read_png
{
	my ($file) = @_;
	open my $fh, '<:raw', $file or die "$file: $!";
	my $data = do { local $/; <$fh> };
	close $fh;
	die "$file is not a PNG" unless substr($data, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($pos, $idat, $w, $h, $depth, $type, $interlace) = (8, '');
	while ($pos < length $data)
	{
		my ($len, $kind) = unpack('N a4', substr($data, $pos, 8));
		my $chunk = substr($data, $pos + 8, $len);
		($w, $h, $depth, $type, undef, undef, $interlace) = unpack('N N C C C C C', $chunk)
		  if $kind eq 'IHDR';
		$idat .= $chunk if $kind eq 'IDAT';
		$pos += 12 + $len;
	}
	die "unsupported PNG: depth $depth, colour type $type, interlace $interlace"
	  unless $depth == 8 && ($type == 2 || $type == 6) && !$interlace;
	my $bpp = $type == 2 ? 3 : 4;
	my $raw = uncompress($idat) // die "$file: corrupt image data";
	my $stride = $w * $bpp;
	my @rows;
	my @p = (0) x $stride;
	for my $y (0 .. $h - 1)
	{
		my $f = ord substr($raw, $y * ($stride + 1), 1);
		my @c = unpack('C*', substr($raw, $y * ($stride + 1) + 1, $stride));
		if ($f == 1) { $c[$_] = ($c[$_] + $c[$_ - $bpp]) & 255 for $bpp .. $#c }
		elsif ($f == 2) { $c[$_] = ($c[$_] + $p[$_]) & 255 for 0 .. $#c }
		elsif ($f == 3)
		{
			$c[$_] = ($c[$_] + ((($_ >= $bpp ? $c[$_ - $bpp] : 0) + $p[$_]) >> 1)) & 255 for 0 .. $#c;
		}
		elsif ($f == 4)
		{
			for my $i (0 .. $#c)
			{
				# Paeth: left, up, upper left
				my ($l, $u, $d) = ($i >= $bpp ? $c[$i - $bpp] : 0, $p[$i], $i >= $bpp ? $p[$i - $bpp] : 0);
				my $e = $l + $u - $d;
				my ($el, $eu, $ed) = (abs($e - $l), abs($e - $u), abs($e - $d));
				$c[$i] = ($c[$i] + ($el <= $eu && $el <= $ed ? $l : $eu <= $ed ? $u : $d)) & 255;
			}
		}
		elsif ($f != 0) { die "$file: unknown PNG filter $f" }
		push @rows, pack('C*', @c);
		@p = @c;
	}
	return { w => $w, h => $h, bpp => $bpp, rows => \@rows };
}

# Pixels of the charts' data colour in a box of the image: the blues of
# the series, the points and the bars (#1f77b4, #74a9cf, and their
# antialiased edges on white), not the grey of axes and text, nor the green
# and orange of change markers.
sub data_pixels
{
	my ($img, $l, $t, $bw, $bh) = @_;
	my $n = 0;
	for my $y ($t .. $t + $bh - 1)
	{
		next if $y < 0 || $y >= $img->{h};
		my @px = unpack('C*', $img->{rows}[$y]);
		for my $x ($l .. $l + $bw - 1)
		{
			next if $x < 0 || $x >= $img->{w};
			my ($r, $g, $bl) = @px[$x * $img->{bpp} .. $x * $img->{bpp} + 2];
			$n++ if $bl - $r >= 60 && $bl > $g;
		}
	}
	return $n;
}

sub write_file
{
	my ($file, $text) = @_;
	open my $fh, '>:raw', $file or die "$file: $!";
	print $fh $text;
	close $fh;
}

# --- the controls: each check fails when it should ------------------------
write_file("$dir/broken.html", qq{<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>
<body><svg width="200" height="50"><rect x="0" y="0" width="-4" height="10"/></svg></body></html>\n});
my (undef, $console) = chromium("$dir/broken.html", '--dump-dom');
ok(scalar(grep { /negative value/ } @$console), 'the console check sees an SVG attribute error')
  or diag(join "\n", @$console);
write_file("$dir/blank.html", qq{<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>
<body style="margin:0"><style>svg{display:block}</style><svg width="300" height="100"><rect x="0" y="0" width="300" height="100" fill="#1f77b4"/></svg>
<svg width="300" height="60"><line x1="0" y1="30" x2="300" y2="30" stroke="#2ca02c" stroke-width="4"/></svg>
<h1>text</h1></body></html>\n});
chromium("$dir/blank.html", "--screenshot=$dir/blank.png");
my $img = read_png("$dir/blank.png");
is(data_pixels($img, 0, 0, 300, 100), 300 * 100, 'the pixel check counts a drawn chart');
is(data_pixels($img, 0, 100, 300, 60), 0, 'and not a change marker');
is(data_pixels($img, 0, 160, 300, 80), 0, 'nor text');

# --- a captured workload around a real change ---------------------------
my $node = PostgreSQL::Test::Cluster->new('report_browser');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pg_stat_statements.track = top
pipeopt.sample_interval = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pipeopt CASCADE');
$node->safe_psql('postgres', q{
  CREATE SCHEMA shop;
  CREATE TABLE shop.orders (id int PRIMARY KEY, customer int NOT NULL, status text NOT NULL, total numeric);
  INSERT INTO shop.orders SELECT g, g % 2000, CASE WHEN g % 50 = 0 THEN 'open' ELSE 'done' END, g % 97
    FROM generate_series(1, 200000) g;
  ANALYZE shop.orders;
  -- names that are markup
  CREATE TABLE shop."</title><script>alert(1)</script>" (id int);
  CREATE TABLE shop."<b>x & ""y""</b>" (id int);
});
$node->safe_psql('postgres', 'SELECT pipeopt.capture()');

# A round of the workload, then a capture.
sub round
{
	my @q = map { "SELECT count(*) FROM shop.orders WHERE customer = $_" } 1 .. 20;
	push @q, "SELECT sum(total) FROM shop.orders WHERE status = 'open'" for 1 .. 3;
	push @q, 'SELECT * FROM shop."</title><script>alert(1)</script>"',
	  'SELECT * FROM shop."<b>x & ""y""</b>" WHERE id NOT IN (SELECT customer FROM shop.orders WHERE id < 3)';
	$node->safe_psql('postgres', join(";\n", @q) . ";\n");
	$node->safe_psql('postgres', 'SELECT pipeopt.capture()');
}
round() for 1 .. 4;
$node->safe_psql('postgres', 'SELECT pipeopt.analyze()');
$node->safe_psql('postgres', 'SELECT pipeopt.advise_indexes()');
my $rec = $node->safe_psql('postgres', q{
  SELECT id FROM pipeopt.recommendations
   WHERE kind = 'create_index' AND statement ~ '\(customer\)$' AND status = 'proposed'});
like($rec, qr/^\d+$/, 'the advisor recommends the index on orders (customer)');
$node->safe_psql('postgres', "SELECT pipeopt.approve($rec, 'customer lookups')");
is($node->safe_psql('postgres', "SELECT outcome FROM pipeopt.apply_now($rec)"), 'succeeded',
	'the index is applied');
round() for 1 .. 4;
my $change = $node->safe_psql('postgres',
	"SELECT id FROM pipeopt.change_log WHERE advice_id = $rec AND action = 'apply' AND outcome = 'succeeded'");

# What the effectiveness monitor records: the statements the change was
# for, before and after it.
$node->safe_psql('postgres', qq{
  CREATE TEMP VIEW affected AS
  SELECT s.fingerprint,
         sum(s.calls) FILTER (WHERE s.captured_at <= l.finished_at) AS cb,
         sum(s.calls) FILTER (WHERE s.captured_at > l.finished_at) AS ca,
         sum(s.total_exec_time) FILTER (WHERE s.captured_at <= l.finished_at) AS tb,
         sum(s.total_exec_time) FILTER (WHERE s.captured_at > l.finished_at) AS ta
    FROM pipeopt.samples s, pipeopt.change_log l
   WHERE l.id = $change
     AND s.fingerprint IN (SELECT a.fingerprint FROM pipeopt.advice_statements a WHERE a.advice_id = l.advice_id)
   GROUP BY s.fingerprint;
  INSERT INTO pipeopt.verification (change_id, advice_id, kind, applied_at, calls_before, calls_after,
    mean_ms_before, mean_ms_after, change_pct, p_value, predicted_saving_ms_per_hour,
    actual_saving_ms_per_hour, verdict, decided_at)
  SELECT l.id, l.advice_id, l.kind, l.finished_at, sum(v.cb), sum(v.ca), sum(v.tb) / sum(v.cb),
         sum(v.ta) / sum(v.ca), (sum(v.ta) / sum(v.ca)) / (sum(v.tb) / sum(v.cb)) * 100 - 100, 0.001,
         a.saving_ms_per_hour, (sum(v.tb) / sum(v.cb) - sum(v.ta) / sum(v.ca)) * sum(v.ca), 'improved', now()
    FROM pipeopt.change_log l JOIN pipeopt.advice a ON a.id = l.advice_id, affected v
   WHERE l.id = $change
   GROUP BY l.id, l.advice_id, l.kind, l.finished_at, a.saving_ms_per_hour;
  INSERT INTO pipeopt.verification_statements (change_id, fingerprint, calls_before, calls_after,
    mean_ms_before, mean_ms_after, change_pct)
  SELECT $change, v.fingerprint, v.cb, v.ca, v.tb / v.cb, v.ta / v.ca, (v.ta / v.ca) / (v.tb / v.cb) * 100 - 100
    FROM affected v;
});
is($node->safe_psql('postgres', "SELECT verdict FROM pipeopt.verification WHERE change_id = $change"),
	'improved', 'the verdict is recorded');

# --- the page -------------------------------------------------------------
my $html = $node->safe_psql('postgres', 'SELECT pipeopt.report_html(3)');
write_file("$dir/report.html", "$html\n");

(undef, $console) = chromium("$dir/report.html", "--screenshot=$dir/report.png");
is_deeply($console, [], 'the page loads without a console message');
ok(-s "$dir/report.png", 'the page is rendered to a PNG');

my ($dom, $dom_console) = chromium("$dir/report.html", '--dump-dom');
is_deeply($dom_console, [], 'no console message when the DOM is built either');
like($dom, qr/<h1>pipeopt report<\/h1>/, 'the DOM is the report');
unlike($dom, qr/<script|<b>/i, 'no markup from statement texts or table names made it into the DOM');
like($dom, qr/&lt;\/title&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'the names are shown as text');

my @timelines = $dom =~ /(<svg class="chart timeline".*?<\/svg>)/gs;
ok(@timelines >= 1, 'statement time over time is charted (' . scalar(@timelines) . ' charts)');
my ($customer) = grep { /WHERE customer = \$1/ } @timelines;
ok($customer, 'the customer lookups have a time line');
my ($points) = ($customer // '') =~ /data-points="(\d+)"/;
ok(($points // 0) >= 8, "with a point per capture ($points)");
my ($series) = ($customer // '') =~ /<polyline class="series" points="([^"]*)"/;
my @pairs = grep { /^\d+(\.\d+)?,\d+(\.\d+)?$/ } split / /, $series // '';
is(scalar(@pairs), $points, 'its line goes through every point');
like($customer // '', qr/<g class="change affects" data-change="$change"><line /,
	'the change is marked on it');
my ($before_after) = $dom =~ /(<svg class="chart before-after".*?<\/svg>)/s;
like($before_after // '', qr/<g class="change" data-change="$change".*<rect class="before"[^>]* width="[1-9][0-9.]*".*<rect class="after"[^>]* width="[1-9][0-9.]*"/s,
	'before and after the change are charted');
my ($top) = $dom =~ /(<svg class="chart top".*?<\/svg>)/s;
my @bars = ($top // '') =~ /<rect class="bar" x="0" y="18" width="([0-9.]+)"/g;
is(scalar(@bars), 3, 'the top statements are charted');
ok(!grep({ $_ <= 0 } @bars), 'with bars of some width');

# Where the browser laid each chart out: a copy of the page with a script
# (and without the policy that would block it) that writes each chart's
# box into the DOM.
(my $measured = $html) =~ s/<meta http-equiv="Content-Security-Policy"[^>]*>//;
$measured =~ s{</body>}{<script>
for (const s of document.querySelectorAll('svg.chart')) {
  const r = s.getBoundingClientRect();
  s.setAttribute('data-box', [r.left, r.top, r.width, r.height].map(Math.round).join(','));
}
document.body.setAttribute('data-height', document.documentElement.scrollHeight);
document.body.setAttribute('data-header', Math.round(document.querySelector('p.meta').getBoundingClientRect().bottom));
</script></body>};
write_file("$dir/measured.html", $measured);
my ($mdom) = chromium("$dir/measured.html", '--dump-dom');
my @boxes = $mdom =~ /<svg class="chart ([a-z-]+)"[^>]*data-box="(\d+),(\d+),(\d+),(\d+)"/g;
my ($header) = $mdom =~ /data-header="(\d+)"/;
is(scalar(@boxes) / 5, scalar(@timelines) + 2, 'every chart has a box');

$img = read_png("$dir/report.png");
while (my ($class, $l, $t, $w, $h) = splice(@boxes, 0, 5))
{
	ok($t + $h <= $img->{h}, "the $class chart at $t..." . ($t + $h) . " is within the screenshot");
	my $n = data_pixels($img, $l, $t, $w, $h);
	ok($n >= 50, "the $class chart is drawn in the PNG ($n pixels of the data colour)");
}
is(data_pixels($img, 0, 0, $img->{w}, $header // 0), 0, 'the page header has no pixel of that colour');

$node->stop;
done_testing();
