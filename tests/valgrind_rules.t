#!/usr/bin/perl
# valgrind memcheck on tcprules and tcprulescheck (the dynamically linked
# copies that make units builds in $UCSPI_BIN/t/dyn/: valgrind cannot see
# malloc in a static binary): good and bad inputs, every lookup path, the
# error exits.  No memory error and no leak (definite, indirect, possible).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

my $dyn = ours('t/dyn');
skip_all('a sanitizer build: valgrind cannot run it') if $ENV{UCSPI_SANITIZED};
need_tool('valgrind');
need_ours('t/dyn/tcprules', 't/dyn/tcprulescheck');
my $dir = tmpdir();
my @vg = ('valgrind', '-q', '--error-exitcode=99', '--leak-check=full',
  '--show-leak-kinds=definite,indirect,possible', '--errors-for-leak-kinds=definite,indirect,possible');

# Run under valgrind; returns (exit code, valgrind's report).
sub vg {
  my ($input, $env, @cmd) = @_;
  open my $fh, '>', "$dir/in" or die;
  print $fh $input;
  close $fh;
  local %ENV = (%ENV, %$env);
  delete $ENV{$_} for grep { !defined $ENV{$_} } keys %ENV;
  my $pid = fork;
  if (!$pid) {
    open STDIN, '<', "$dir/in";
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', "$dir/err";
    exec 'timeout', '120', @vg, @cmd;
    exit 127;
  }
  waitpid($pid, 0);
  my $rc = $? >> 8;
  open my $e, '<', "$dir/err";
  my $report = join '', grep { /^==\d+==/ } <$e>;
  return ($rc, $report);
}

sub check {
  my ($name, $want, $input, $env, @cmd) = @_;
  my ($rc, $report) = vg($input, $env, @cmd);
  ok($rc == $want && $report eq '', "$name: exit $want, no memory errors or leaks") or diag("exit $rc\n$report");
}

my $rules = <<'RULES';
# every 0.88 form
1.2.3.4:allow,RELAYCLIENT=""
1.2.3.:deny
1.2.:allow,A=/x/,B=+y+,C="z"
10.0.0.1-9:allow,RANGE="1"
10.0-3.:deny
=host.example.com:allow,HOST="1"
=.example.com:deny
=:allow,EMPTYHOST="1"
user@5.6.7.8:allow,INFO="1"
user@=mail.example.org:deny
@9.9.9.9:allow,EMPTYINFO="1"
:allow,DEFAULT="1"

,,a=/b/
5.5.5.5:allow,a=xx
RULES
my $cdb = "$dir/rules.cdb";
check('tcprules, every form', 0, $rules, {}, "$dyn/tcprules", $cdb, "$dir/rules.tmp");
check('tcprules, empty input', 0, '', {}, "$dyn/tcprules", "$dir/empty.cdb", "$dir/empty.tmp");
check('tcprules, parse error', 100, "1.2.3.4:allow\n1.2.3.5:allowed\n", {}, "$dyn/tcprules", "$dir/bad.cdb", "$dir/bad.tmp");
check('tcprules, unclosed quote', 100, "1.2.3.4:allow,A=\"x\n", {}, "$dyn/tcprules", "$dir/bad.cdb", "$dir/bad.tmp");
check('tcprules, a long line', 0, '1.2.3.4:allow,X="' . ('v' x 300000) . "\"\n", {}, "$dyn/tcprules", "$dir/long.cdb", "$dir/long.tmp");
check('tcprules, /dev/full', 111, $rules, {}, "$dyn/tcprules", "$dir/full.cdb", '/dev/full');
check('tcprules, usage', 100, '', {}, "$dyn/tcprules");

my @lookups = (
  [{ TCPREMOTEIP => '1.2.3.4' }, 'an address'],
  [{ TCPREMOTEIP => '1.2.3.9' }, 'a prefix, deny'],
  [{ TCPREMOTEIP => '10.0.0.5' }, 'a range'],
  [{ TCPREMOTEIP => '7.7.7.7', TCPREMOTEHOST => 'a.b.example.com' }, 'a host suffix'],
  [{ TCPREMOTEIP => '7.7.7.7', TCPREMOTEHOST => '' }, 'an empty host'],
  [{ TCPREMOTEIP => '5.6.7.8', TCPREMOTEINFO => 'user' }, 'info@ip'],
  [{ TCPREMOTEIP => '8.8.8.8', TCPREMOTEINFO => 'user', TCPREMOTEHOST => 'mail.example.org' }, 'info@=host'],
  [{ TCPREMOTEIP => '9.9.9.9', TCPREMOTEINFO => '' }, 'an empty info'],
  [{ TCPREMOTEIP => '200.1.1.1', TCPREMOTEHOST => ('h' x 5000) . '.example.net', TCPREMOTEINFO => 'i' x 5000 }, 'huge host and info'],
  [{ TCPREMOTEIP => undef }, 'no TCPREMOTEIP'],
);
for my $l (@lookups) {
  check("tcprulescheck, $l->[1]", 0, '', $l->[0], "$dyn/tcprulescheck", $cdb);
}
check('tcprulescheck, missing cdb', 111, '', { TCPREMOTEIP => '1.2.3.4' }, "$dyn/tcprulescheck", "$dir/none.cdb");
check('tcprulescheck, usage', 100, '', {}, "$dyn/tcprulescheck");
done_testing();
