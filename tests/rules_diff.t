#!/usr/bin/perl
# Differential tests of tcprules and tcprulescheck against the reference
# (ucspi-tcp 0.88 in /usr/bin): for a corpus of accepted and rejected
# rules files, the same exit code, the same message, the same cdb byte
# for byte (and so the same `cdb -d` dump); and each side's tcprulescheck
# gives the same answer on the other side's cdb.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

my $bin = ours();
my $ref = '/usr/bin';
need_ref('tcprules', 'tcprulescheck');
my $dir = tmpdir();

# Run one tcprules; returns "exit|stderr" and leaves the cdb in $cdb.
sub tcprules {
  my ($prog, $input, $cdb) = @_;
  spew("$dir/in", $input);
  unlink $cdb, "$cdb.tmp";
  my $rc = system("timeout 10 $prog $cdb $cdb.tmp < $dir/in 2> $dir/err") >> 8;
  return "$rc|" . slurp("$dir/err");
}

sub cdb_bytes { my $f = shift; return -e $f ? slurp($f) : 'none' }
my $have_cdb = -x '/usr/bin/cdb';
sub dump_cdb { my $f = shift; return '' unless -f $f && $have_cdb; scalar `cdb -d $f 2>&1` }

my @corpus = (
  "1.2.3.4:allow\n",
  "1.2.3.4:deny\n",
  "1.2.3.4:allow,RELAYCLIENT=\"\"\n127.:allow,RELAYCLIENT=\"\"\n:allow\n",
  "1.2.3.4-7:deny,a=/x/,b=\"y\"\n",
  "10.0-5.:allow\n",
  "=foo.example.com:allow\n=.example.com:deny\n=:allow,X=/y/\n",
  "joe\@1.2.3.4:deny\njoe\@=h.example.com:allow\n\@1.2.3.4:deny\n",
  ":allow\n",
  ":deny\n",
  "",
  "\n\n\n",
  "# comment only\n",
  "#x:deny\n\n\t\n1:deny \t\n",
  "   \n1:allow\n",
  "no colon at all\n1:allow\n",
  "1:allow",                         # last line without newline
  "x:deny\n1.2.3.4:allow\nx:allow\n", # duplicates: both stored
  "5-2.:allow\n1.2.3.4-:allow\n1.2.3.-:deny\n",
  "1.2.3.4-300:allow\n",
  "1.2.3.004-5:allow\n",
  "1.2.3.18446744073709551617-3:allow\n",
  "1.2.3.4294967297-3:allow\n",
  "x=1-3:allow\na-b\@1:allow\n",
  "1:allow,,a=/b/\n",
  "1:allow,a=xx\n",
  "1:allow,a=//,b=++,c=::\n",
  "a:allow,X=:allow:\n",
  "1:deny,A=/x:deny/\n",
  " lead:allow\n",
  "a\0b:allow\n",
  "1:allow,a\0b=/x/\n",
  "1.2.3.4:allow,NAME=/" . ('v' x 5000) . "/\n",
  ('k' x 3000) . ":deny\n",
  "10.0.0.0-3:deny,A=|1|\n10.0.1.:allow\n",
  # rejected
  "1:bad  \t\n",
  "1:allow\r\n",
  "1:allow, a=/x/\n",
  "1:allowed\n",
  "1:Allow\n",
  "1:deny ,x=/y/\n",
  "1:allow,\n",
  "1:allow,=x=\n",
  "1:allow,a\n",
  "1:allow,a=\n",
  "1:allow,a=/x\n",
  "1-2-3:allow\n",
  "1.2.3.a-5:allow\n",
  "1.2.3.4-5x:allow\n",
  "a\0b:allowx\n",
  "ok:allow\nbad:nope\nnever:allow\n",
  "a:allowx:allow\n",
  "1:allow:allow\n",
  "x:y:allow\n",
  "=a:b:deny\n",
  "a:b\@1.2.3.4:deny\n",
  "long:" . ('z' x 5000) . "\n",
);

for my $input (@corpus) {
  my $r = tcprules("$ref/tcprules", $input, "$dir/ref.cdb");
  my $o = tcprules("$bin/tcprules", $input, "$dir/our.cdb");
  my $name = show($input, 60);
  ok($r eq $o, "same exit and message: $name") or diag("ref: " . show($r, 60) . "\nour: " . show($o, 60));
  ok(cdb_bytes("$dir/ref.cdb") eq cdb_bytes("$dir/our.cdb"), "same cdb bytes: $name");
  ok(dump_cdb("$dir/ref.cdb") eq dump_cdb("$dir/our.cdb"), "same cdb -d: $name");
  ok(!!(-e "$dir/ref.cdb.tmp") == !!(-e "$dir/our.cdb.tmp"), "same tmp left behind: $name");
}

# Both tcprulescheck on both cdbs, for many clients.
my $rules = join '', map { "$_\n" } (
  'joe@1.2.3.4:deny', 'joe@=h.example.com:allow,A=/info-host/', '@1.2.3.5:deny',
  '1.2.3.4:allow,B=/ip/', '=h.example.com:allow,C=/host/', '1.2.3.:allow,D=/c/',
  '1.2.:deny', '1.:allow,E=/a/', '=.example.com:allow,F=/suffix/', '=.com:deny',
  '=:allow,G=/anyhost/', '10.0-3.:deny', '192.168.1.1-20:allow,H=/range/',
  'a.b.:deny', ':allow,Z=/default/');
my $rules_nodefault = $rules;
$rules_nodefault =~ s/^:allow.*\n//m;
my @ips = qw(1.2.3.4 1.2.3.5 1.2.3.6 1.2.9.9 1.9.9.9 9.9.9.9 10.2.0.1 10.4.0.1
             192.168.1.5 192.168.1.25 0.0.0.0 a.b.c 1.2.3. 1.2.3.4.5);
my @hosts = (undef, '', 'h.example.com', 'x.example.com', 'a.b.com', 'org',
             '.example.com', 'trailing.');
my @infos = (undef, '', 'joe', 'ann');
# One shell script runs every client; its output, split per client, is
# compared between the four program/cdb pairs.
sub shq { my $s = shift; $s =~ s/'/'\\''/g; "'$s'" }
my @clients;
for my $ip (undef, @ips) {
  for my $host (@hosts) {
    for my $info (@infos) { push @clients, [$ip, $host, $info] }
  }
}
sub check_all {
  my ($prog, $cdb) = @_;
  my $script = '';
  for my $c (@clients) {
    my @env = ('TCPREMOTEIP', 'TCPREMOTEHOST', 'TCPREMOTEINFO');
    my $set = join ' ', map { defined $c->[$_] ? "$env[$_]=" . shq($c->[$_]) : () } 0 .. 2;
    $script .= "echo '=== client'; env -u TCPREMOTEIP -u TCPREMOTEHOST -u TCPREMOTEINFO $set $prog $cdb 2>&1; echo \"exit \$?\"\n";
  }
  spew("$dir/check.sh", $script);
  my @out = split /^=== client\n/m, scalar `timeout 60 sh $dir/check.sh`;
  shift @out;
  return \@out;
}
for my $file ([$rules, 'with default'], [$rules_nodefault, 'no default']) {
  tcprules("$ref/tcprules", $file->[0], "$dir/ref.cdb");
  tcprules("$bin/tcprules", $file->[0], "$dir/our.cdb");
  # Identical files need no cross runs: the same bytes give the same answers.
  my $identical = slurp("$dir/ref.cdb") eq slurp("$dir/our.cdb");
  ok($identical, "same cdb for the check file ($file->[1])");
  my @pairs = $identical
    ? (["$ref/tcprulescheck", "$dir/ref.cdb"], ["$bin/tcprulescheck", "$dir/ref.cdb"])
    : (["$ref/tcprulescheck", "$dir/ref.cdb"], ["$ref/tcprulescheck", "$dir/our.cdb"],
       ["$bin/tcprulescheck", "$dir/ref.cdb"], ["$bin/tcprulescheck", "$dir/our.cdb"]);
  my @runs = map { check_all(@$_) } @pairs;
  my ($same, $total) = (0, scalar @clients);
  for my $i (0 .. $#clients) {
    my @out = map { $_->[$i] // 'missing' } @runs;
    if (!grep { $_ ne $out[0] } @out) { $same++; next }
    next if $total - $same > 3;
    my $c = $clients[$i];
    diag("differs for ip=" . ($c->[0] // '-') . " host=" . ($c->[1] // '-') . " info=" . ($c->[2] // '-'));
    diag(join "\n", map { '  ' . show($_, 60) } @out);
  }
  ok($same == $total && $total > 400, "tcprulescheck agrees both ways ($file->[1]): $same of $total");
}

# Errors of tcprulescheck and usage.
for my $case (['', 'no argument'], ["$dir/none.cdb", 'missing file'],
              ["$dir/empty", 'an empty file'],
              ["$dir/short", 'a short file']) {
  spew("$dir/empty", '');
  spew("$dir/short", 'abc');
  my ($arg, $what) = @$case;
  my $r = `$ref/tcprulescheck $arg 2>&1; echo "exit \$?"`;
  my $o = `$bin/tcprulescheck $arg 2>&1; echo "exit \$?"`;
  $r =~ s/^\S+: //mg; $o =~ s/^\S+: //mg;
  ok($r eq $o, "tcprulescheck, $what: same message and exit") or diag("ref: $r" . "our: $o");
}
# The reference crashes on a directory; ours says why.
my $o = `$bin/tcprulescheck $dir 2>&1; echo "exit \$?"`;
ok($o =~ /^tcprulescheck: fatal: unable to read \Q$dir\E: .+\nexit 111\n\z/, 'tcprulescheck, a directory: exit 111') or diag($o);
for my $args ('', 'only.cdb') {
  my $r = `cd $dir && $ref/tcprules $args < /dev/null 2>&1; echo "exit \$?"`;
  my $o = `cd $dir && $bin/tcprules $args < /dev/null 2>&1; echo "exit \$?"`;
  ok($r eq $o, "tcprules usage with '$args'") or diag("ref: $r" . "our: $o");
}
done_testing();
