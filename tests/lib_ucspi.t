#!/usr/bin/perl
# The shared test helpers (tests/lib/Ucspi.pm) themselves: deadlines are
# kept, processes are stopped and reaped, files round-trip.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use Time::HiRes qw(time);

like(ours('tcpserver'), qr{/tcpserver\z}, 'ours names a program under UCSPI_BIN');
is(ref_bin('tcprules'), '/usr/bin/tcprules', 'ref_bin is /usr/bin');
ok(have_tool('sh') && !have_tool('no-such-tool-here'), 'have_tool');

my $f = tmpdir() . '/f';
spew($f, "a\0b\r\n");
is(slurp($f), "a\0b\r\n", 'spew and slurp are byte exact');
is(slurp(tmpdir() . '/missing'), '', 'slurp of a missing file is empty');
is(show("a\tb\n", 3), 'a\x...', 'show escapes and cuts');
is(show_text("a\tb\n"), "a\\x09b\n", 'show_text keeps newlines');

my $t0 = time;
is(wait_until(0.3, sub { 0 }), 0, 'wait_until: the last value when it never holds');
my $waited = time - $t0;
ok($waited >= 0.3 && $waited < 3, "wait_until keeps its deadline ($waited s)");
my $n = 0;
is(wait_until(10, sub { ++$n >= 3 && 'yes' }), 'yes', 'wait_until: the true value');

my $r = run_cmd(['sh', '-c', 'cat; echo err >&2; exit 3'], in => "in\n");
is_deeply([$r->{out}, $r->{err}, $r->{status}], ["in\n", "err\n", 3], 'run_cmd: out, err, exit code');
$r = run_cmd(['sh', '-c', 'echo "$X|${HOME-unset}"'], env => { X => 1 });
is($r->{out}, "1|unset\n", 'run_cmd: the exact environment');
$r = run_cmd(['sh', '-c', 'kill -9 $$']);
is($r->{status}, 137, 'run_cmd: 128+signal');
$r = run_cmd(['sleep', '30'], timeout => 0.5);
ok($r->{status} == -1 && $r->{seconds} < 5, 'run_cmd: killed at its deadline');

my ($pid, $line) = start_process(['sh', '-c', 'echo ready; exec sleep 30']);
is($line, "ready\n", 'start_process: the first line');
is(stop_pid($pid), 15, 'stop_pid: the wait status of a process ended by SIGTERM');
ok(!kill(0, $pid), '... and it is reaped');
($pid, $line) = start_process(['sh', '-c', 'exec sleep 30'], timeout => 0.3);
ok(!defined $line, 'start_process: undef when no line comes in time');
ok(!defined stop_pid($pid, 'CONT', 0.2), 'stop_pid: undef when SIGKILL was needed');
ok(!kill(0, $pid), '... and it is reaped');

$pid = background(sub { sleep 30 });
my @kids = children($$);
ok(grep({ $_->[0] == $pid } @kids), 'children sees a child');
ok(fd_count($$) > 2 && cpu_ticks($$) >= 0, 'fd_count and cpu_ticks read /proc');
stop_pid($pid);

pipe(my $rd, my $wr) or die;
$t0 = time;
ok(!defined line_within($rd, 0.3), 'line_within: undef at the deadline');
syswrite($wr, "one\ntwo");
close $wr;
is(line_within($rd, 5), "one\n", 'line_within: one line');
my $eof;
is_deeply([read_to_eof($rd, 5, \$eof), $eof], ['two', 1], 'read_to_eof: the rest, and EOF');
pipe($rd, $wr) or die;
is_deeply([read_to_eof($rd, 0.3, \$eof), $eof], ['', 0], 'read_to_eof: no EOF by the deadline');

is_deeply(env_of("A=1\nnot a variable\nB_2=x=y\nC=\n"), { A => '1', B_2 => 'x=y', C => '' },
          'env_of: the NAME=value lines');
is(count_of("ab ab a", qr/ab/), 2, 'count_of: the matches');

SKIP: {
  skip('tcprules not built', 3) unless -x ours('tcprules');
  my $cdb = make_rules(tmpdir() . '/lib.cdb', "1.2.3.4:deny\n");
  ok(-s $cdb, 'make_rules: the cdb is made');
  ok(!eval { make_rules(tmpdir() . '/bad.cdb', "1.2.3.4:maybe\n"); 1 }, 'make_rules: dies on bad rules');
  like($@, qr/unable to parse/, '... with tcprules\' message');
}

($pid, my $port) = fake_server(sub { print { $_[0] } "hi\n" });
is(fetch($port), "hi\n", 'fake_server: the first connection answered');
is(fetch($port), "hi\n", '... and the next');
stop_pid($pid);
($pid, $port) = fake_server(sub { print { $_[0] } "once\n" }, once => 1);
is(fetch($port), "once\n", 'fake_server once: answered');
ok(defined wait_pid($pid, 5), '... then it ends by itself');
done_testing();
