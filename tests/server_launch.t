#!/usr/bin/perl
# The fast launch (src/tcpserver/launch.c): without -v, an admitted
# connection's child is made by clone without vfork and execs the
# program while the server goes on.  What the program and the log see
# must be what 0.88 gives: the same environment, the banner first, -D's
# TCP_NODELAY, the program searched in $PATH, and a program that cannot
# be run reported once per connection with 0.88's words, by a server
# that keeps serving (the child shares the server's memory until its
# exec: a failure there must not disturb the server).  Against the
# reference where it is installed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver');
my $t = tmpdir();
my @servers = (['ours', ours('tcpserver')]);
push @servers, ['reference', ref_bin('tcpserver')] if have_ref('tcpserver');

spew("$t/env.sh", "#!/bin/sh\nenv | LC_ALL=C sort\n");
spew("$t/nodelay.pl", <<'PL');
#!/usr/bin/perl
use Socket qw(IPPROTO_TCP TCP_NODELAY);
my $v = getsockopt(STDIN, IPPROTO_TCP, TCP_NODELAY);
print defined $v && unpack('i', $v) ? "nodelay\n" : "delay\n";
PL
mkdir "$t/bin";
spew("$t/bin/hello-launch", "#!/bin/sh\necho hello from path\n");
chmod 0755, "$t/env.sh", "$t/nodelay.pl", "$t/bin/hello-launch";

my %got;
for my $s (@servers) {
  my ($name, $bin) = @$s;
  my $srv = start_server($bin, ['-Q', '-H', '-R', '-l', 'x', '127.0.0.1', '0', "$t/env.sh"]);
  my $env = env_of(fetch($srv->{port}));
  delete @$env{qw(TCPREMOTEPORT TCPLOCALPORT)};
  $got{$name}{env} = join "\n", map { "$_=$env->{$_}" } sort keys %$env;
  stop_server($srv);

  $srv = start_server($bin, ['-Q', '-H', '-R', '-l', 'x', '-B', "banner\r\n", '127.0.0.1', '0', "$t/env.sh"]);
  my $out = fetch($srv->{port});
  $got{$name}{banner} = substr($out, 0, 8);
  stop_server($srv);

  for my $d (['-D', 'nodelay'], ['-d', 'delay']) {
    $srv = start_server($bin, ['-Q', '-H', '-R', '-l', 'x', $d->[0], '127.0.0.1', '0', "$t/nodelay.pl"]);
    $got{$name}{$d->[1]} = fetch($srv->{port});
    stop_server($srv);
  }

  $srv = start_server($bin, ['-Q', '-H', '-R', '-l', 'x', '127.0.0.1', '0', 'hello-launch'],
                      env => { PATH => "/nonexistent:$t/bin:/bin:/usr/bin" });
  $got{$name}{path} = fetch($srv->{port});
  stop_server($srv);

  # A program that is not there: each connection is dropped with 0.88's
  # warning, and the server goes on serving the next ones.
  $srv = start_server($bin, ['-Q', '-H', '-R', '-l', 'x', '127.0.0.1', '0', "$t/no-such-program"]);
  my $closed = 0;
  for (1 .. 50) { $closed++ if fetch($srv->{port}) eq '' }
  wait_until(5, sub { count_of(slurp($srv->{log}), qr/unable to run/) >= 50 });
  $got{$name}{missing} = $closed;
  $got{$name}{missing_log} = slurp($srv->{log});
  ok(kill(0, $srv->{pid}), "$name: the server still runs after 50 programs that could not be run");
  stop_server($srv);
}

# With -v the server writes the child's pid and verdict lines while the
# child waits: for each child they come before anything the program
# writes to stderr (here its pid), and its end line after.
spew("$t/says.sh", "#!/bin/sh\necho program says \$\$ >&2\necho done\n");
chmod 0755, "$t/says.sh";
{
  my $srv = start_server(ours('tcpserver'), ['-v', '-H', '-R', '-l', 'x', '127.0.0.1', '0', "$t/says.sh"]);
  fetch($srv->{port}) for 1 .. 20;
  log_settled($srv);
  stop_server($srv);
  my @lines = split /\n/, slurp($srv->{log});
  my (%at, $bad);
  for my $i (0 .. $#lines) {
    $at{$2}{$1} = $i if $lines[$i] =~ /^tcpserver: (pid|ok|end) (\d+) /;
    $at{$1}{says} = $i if $lines[$i] =~ /^program says (\d+)$/;
  }
  for my $pid (keys %at) {
    my $a = $at{$pid};
    $bad++ unless defined $a->{pid} && defined $a->{ok} && defined $a->{says} && defined $a->{end} &&
      $a->{pid} < $a->{ok} && $a->{ok} < $a->{says} && $a->{says} < $a->{end};
  }
  ok(keys(%at) == 20 && !$bad, '-v: for each of 20 children its pid and ok lines, then the program\'s stderr, then its end line')
    or diag(show_text(join "\n", @lines));
}

is($got{ours}{banner}, "banner\r\n", 'the banner comes before the program\'s output');
like($got{ours}{env}, qr/^TCPLOCALIP=127\.0\.0\.1$/m, 'the program has its environment');
is($got{ours}{nodelay}, "nodelay\n", '-D: the program\'s socket has TCP_NODELAY');
is($got{ours}{delay}, "delay\n", '-d: it has not');
is($got{ours}{path}, "hello from path\n", 'a program named without a slash is searched in $PATH');
is($got{ours}{missing}, 50, 'a program that cannot be run: 50 connections, 50 closed');
my @lines = split /\n/, $got{ours}{missing_log};
is(scalar(grep { $_ eq "tcpserver: warning: dropping connection, unable to run $t/no-such-program: file does not exist" } @lines),
   50, 'each logged once with 0.88\'s words');
is(scalar(@lines), 50, 'and nothing else is logged');

SKIP: {
  skip 'no reference tcpserver', 6 unless $got{reference};
  for my $k (qw(env banner nodelay delay path)) {
    is($got{ours}{$k}, $got{reference}{$k}, "$k: as the reference");
  }
  is($got{ours}{missing_log}, $got{reference}{missing_log}, 'the warnings: as the reference');
}

# The mechanism: no vfork and no fork for the plain fast path, with -v
# or without (strace sees a clone sharing the memory); on the slow
# path (-h), fork.
SKIP: {
  skip 'strace is not installed', 6 unless have_tool('strace');
  skip 'a sanitized build starts its children with vfork', 6 if $ENV{UCSPI_SANITIZED};
  for my $case ([[], qr/clone\([^)]*CLONE_VM[^)]*\)/, 'clone with CLONE_VM'],
                [['-v'], qr/clone\([^)]*CLONE_VM[^)]*\)/, 'clone with CLONE_VM'],
                [['-h'], qr/clone\((?![^)]*CLONE_VM)[^)]*SIGCHLD/, 'fork']) {
    my ($pid, $line) = start_process(['strace', '-f', '-e', 'trace=clone,clone3,vfork,fork', '-o', "$t/strace",
                                      ours('tcpserver'), '-1', '-H', '-R', '-l', 'x', @{ $case->[0] }, '127.0.0.1', '0', '/bin/true'],
                                     stderr => "$t/strace.err");
    my ($port) = ($line // '') =~ /^(\d+)/;
    fetch($port) if $port;
    # strace's child is the server: it is stopped first (strace only
    # detaches when it is stopped itself), then strace ends with it.
    kill 'TERM', $_->[0] for children($pid);
    is(wait_pid($pid, 10), 0, 'strace ended with its server') or stop_pid($pid);
    like(slurp("$t/strace"), $case->[1], (@{ $case->[0] } ? $case->[0][0] : 'without -v') . ": $case->[2]");
  }
}

done_testing();
