#!/usr/bin/perl
# The service examples of examples/, each run by the real supervisor in a
# scratch directory: daemontools (svscan, svc, multilog), runit (runsv,
# sv, svlogd), s6 (s6-svscan, s6-svc, s6-log), and the qmail-smtpd style
# service with rblsmtpd and a fake SMTP program.  The run scripts call the
# installed names; our build/ comes first in PATH.  Checked: the -v lines
# in the logger's current file, and up, down and restart by the
# supervisor's own commands; s6's readiness (notification-fd), daemontools'
# drain (svc -d with tcpserver -G), and the systemd units under
# systemd-socket-activate.  Everything started is killed by pid at the
# end: each process whose working directory is inside the scratch
# directory (supervisors, run scripts, tcpserver and its children).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(abs_path);
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $bin = abs_path($ENV{UCSPI_BIN} || 'build');
plan skip_all => "no tcpserver in $bin" unless -x "$bin/tcpserver";
$ENV{PATH} = "$bin:$ENV{PATH}";
my $examples = abs_path('examples');
my $scratch = tempdir(CLEANUP => 1);
chmod 0755, $scratch;
my @started;

sub ours_running { return working_in($scratch) }
sub kill_all {
  for my $sig ('TERM', 'KILL') {
    my @p = (@started, ours_running());
    last unless @p;
    kill $sig, @p;
    my $until = time + 5;
    sleep 0.1 while time < $until && ours_running();
  }
  waitpid($_, WNOHANG) for @started;
}
END { local $?; kill_all() }
$SIG{ALRM} = sub { die "timeout\n" };

# A copy of examples/$what as $dir, with ./conf pointing at 127.0.0.1:$port.
sub service_copy {
  my ($what, $dir, $conf) = @_;
  system('mkdir', '-p', $dir) == 0 or die;
  system('cp', '-R', "$examples/$what/.", $dir) == 0 or die "cp $what";
  spew("$dir/conf", $conf);
}

# Starts a supervisor in $cwd, in its own process group.
sub start_supervisor {
  my ($cwd, @cmd) = @_;
  my $pid = fork;
  die "fork: $!" unless defined $pid;
  if (!$pid) {
    setpgrp(0, 0);
    chdir $cwd or exit 127;
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$scratch/supervisors.out";
    open STDERR, '>&', \*STDOUT;
    exec @cmd;
    exit 127;
  }
  push @started, $pid;
  return $pid;
}

# One line through the echo service; '' when refused.
sub echo_once {
  my ($port, $text) = @_;
  my $got = '';
  eval {
    alarm 10;
    my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port) or die "refused\n";
    print $c "$text\n";
    $c->flush;
    $got = <$c> // '';
    close $c;
    alarm 0;
  };
  alarm 0;
  return $got;
}

sub nobody_listens {
  my ($port) = @_;
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port);
  return 1 unless $c;
  close $c;
  return 0;
}

# The common checks of an echo service: log lines, down, up, restart.
# $ctl->('up'|'down'|'term') drives the supervisor.
sub check_echo {
  my ($name, $port, $log, $ctl) = @_;
  ok(wait_until(20, sub { slurp($log) =~ m{tcpserver: status: 0/40} }),
    "$name: tcpserver runs, logged in $log")
    or diag(slurp($log) . slurp("$scratch/supervisors.out"));
  is(echo_once($port, "hello $name"), "hello $name\n", "$name: the service answers");
  ok(wait_until(10, sub { slurp($log) =~ m{tcpserver: end \d+ status 0} }), "$name: end line logged");
  my $text = slurp($log);
  like($text, qr{tcpserver: status: 1/40}, "$name: status 1/40 logged");
  like($text, qr{tcpserver: pid \d+ from 127\.0\.0\.1}, "$name: pid line logged");
  like($text, qr{tcpserver: ok \d+ 0:127\.0\.0\.1:$port :127\.0\.0\.1::\d+}, "$name: ok line logged");
  $ctl->('down');
  ok(wait_until(10, sub { nobody_listens($port) }), "$name: down stops tcpserver");
  $ctl->('up');
  ok(wait_until(20, sub { count_of(slurp($log), qr{status: 0/40}) >= 3 }), "$name: up starts it again");
  ok(wait_until(10, sub { echo_once($port, 'again') eq "again\n" }), "$name: answers after up")
    or diag(slurp($log));
  my $before = count_of(slurp($log), qr{status: 0/40});
  $ctl->('term');
  ok(wait_until(20, sub { count_of(slurp($log), qr{status: 0/40}) > $before }), "$name: term restarts it");
  ok(wait_until(10, sub { echo_once($port, 'third') eq "third\n" }), "$name: answers after the restart");
}

subtest 'daemontools: svscan, svc, multilog' => sub {
  for (qw(svscan supervise svc multilog)) { plan skip_all => "no $_ (package daemontools)" unless have_tool($_) }
  my $port = free_port();
  my $svc = "$scratch/dt/service/echo";
  service_copy('daemontools/echo', $svc, "IP=127.0.0.1\nPORT=$port\n");
  start_supervisor("$scratch/dt/service", 'svscan', '.');
  check_echo('daemontools', $port, "$svc/log/main/current", sub {
    my %flag = (up => '-u', down => '-d', term => '-t');
    system('svc', $flag{$_[0]}, $svc) == 0 or diag("svc $flag{$_[0]} failed");
  });
  system('svc', '-dx', $svc, "$svc/log");
  done_testing();
};

subtest 'runit: runsv, sv, svlogd' => sub {
  for (qw(runsv sv svlogd)) { plan skip_all => "no $_ (package runit)" unless have_tool($_) }
  my $port = free_port();
  my $svc = "$scratch/runit/echo";
  service_copy('runit/echo', $svc, "IP=127.0.0.1\nPORT=$port\n");
  start_supervisor("$scratch/runit", 'runsv', 'echo');
  check_echo('runit', $port, "$svc/log/main/current", sub {
    my %cmd = (up => 'up', down => 'down', term => 'term');
    system("sv $cmd{$_[0]} $svc >/dev/null") == 0 or diag("sv $cmd{$_[0]} failed");
  });
  system("sv exit $svc >/dev/null 2>&1");
  done_testing();
};

subtest 's6: s6-svscan, s6-svc, s6-log' => sub {
  for (qw(s6-svscan s6-supervise s6-svc s6-log)) { plan skip_all => "no $_ (package s6)" unless have_tool($_) }
  my $port = free_port();
  my $scan = "$scratch/s6/scan";
  my $svc = "$scan/echo";
  service_copy('s6/echo', $svc, "IP=127.0.0.1\nPORT=$port\n");
  start_supervisor($scan, 's6-svscan', '.');
  # Readiness through ./notification-fd and tcpserver -N: s6-svwait -U
  # returns once tcpserver listens, so the first connection succeeds.
  ok(wait_until(10, sub { -d "$svc/supervise" }), 's6: s6-supervise runs');
  is(system('s6-svwait', '-U', '-t', '20000', $svc), 0, 's6: s6-svwait -U returns (up and ready)');
  is(echo_once($port, 'ready'), "ready\n", 's6: answers as soon as s6-svwait -U returns');
  like(`s6-svstat -o ready $svc`, qr{^true$}, 's6: s6-svstat says ready');
  check_echo('s6', $port, "$svc/log/main/current", sub {
    my %flag = (up => '-u', down => '-d', term => '-t');
    system('s6-svc', $flag{$_[0]}, $svc) == 0 or diag("s6-svc $flag{$_[0]} failed");
  });
  system('s6-svc', '-d', $svc);
  is(system('s6-svwait', '-D', '-t', '20000', $svc), 0, 's6: down, s6-svwait -D returns');
  system('s6-svc', '-u', $svc);
  is(system('s6-svwait', '-U', '-t', '20000', $svc), 0, 's6: up again, s6-svwait -U returns');
  is(echo_once($port, 'ready again'), "ready again\n", 's6: answers at once after that');
  system('s6-svscanctl', '-t', $scan);
  done_testing();
};

subtest 'daemontools: svc -d drains (tcpserver -G of the run script)' => sub {
  for (qw(svscan supervise svc svstat multilog)) { plan skip_all => "no $_ (package daemontools)" unless have_tool($_) }
  my $port = free_port();
  my $svc = "$scratch/drain/service/echo";
  my $log = "$svc/log/main/current";
  service_copy('daemontools/echo', $svc, "IP=127.0.0.1\nPORT=$port\n");
  like(slurp("$svc/run"), qr{^exec tcpserver .*-G "\$DRAIN"}m, 'the run script drains with -G');
  start_supervisor("$scratch/drain/service", 'svscan', '.');
  ok(wait_until(20, sub { slurp($log) =~ m{tcpserver: status: 0/40} }), 'drain: tcpserver runs')
    or diag(slurp($log) . slurp("$scratch/supervisors.out"));
  my $down = sub { `svstat $svc` =~ m{: down } };

  # The default (10+5): a client connected during svc -d finishes its work.
  alarm 30;
  my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port) or die "connect: $!";
  print $c "one\n"; $c->flush;
  is(scalar <$c>, "one\n", 'drain: a client is served');
  system('svc', '-d', $svc) == 0 or diag('svc -d failed');
  ok(wait_until(10, sub { slurp($log) =~ m{tcpserver: drain: pid \d+ stopped accepting, waiting for 1 child} }),
    'drain: "stopped accepting, waiting for 1 child" in current') or diag(slurp($log));
  ok(wait_until(10, sub { nobody_listens($port) }), 'drain: new connections are refused at once');
  print $c "two\n"; $c->flush;
  is(scalar <$c>, "two\n", 'drain: the connected client is still served');
  ok(wait_until(3, $down), 'drain: the service is down at once, while its client is served');
  close $c;
  alarm 0;
  ok(wait_until(10, sub { slurp($log) =~ m{tcpserver: drain: done} }), 'drain: "done" once the client left')
    or diag(slurp($log));
  unlike(slurp($log), qr{drain: deadline}, 'drain: no deadline reached');

  # A short drain (DRAIN=1+1 in ./conf): a client that stays is TERMed.
  spew("$svc/conf", "IP=127.0.0.1\nPORT=$port\nDRAIN=1+1\n");
  system('svc', '-u', $svc) == 0 or diag('svc -u failed');
  ok(wait_until(20, sub { count_of(slurp($log), qr{tcpserver: status: 0/40}) >= 2 }), 'drain: up again')
    or diag(slurp($log));
  my $text;
  eval {
    alarm 30;
    $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port) or die "connect: $!";
    print $c "three\n"; $c->flush;
    is(scalar <$c>, "three\n", 'drain 1+1: a client is served');
    my $t0 = time;
    system('svc', '-d', $svc) == 0 or diag('svc -d failed');
    my $rest = <$c>;
    my $t = time - $t0;
    ok(!defined $rest, 'drain 1+1: the client\'s program is ended (EOF)');
    ok($t > 0.5 && $t < 5, sprintf('drain 1+1: at the deadline (%.1f s)', $t));
    close $c;
    alarm 0;
  };
  alarm 0;
  is($@, '', 'drain 1+1: no timeout');
  ok(wait_until(10, sub { count_of(slurp($log), qr{drain: done}) >= 2 }),
    'drain 1+1: done') or diag(slurp($log));
  $text = slurp($log);
  like($text, qr{tcpserver: drain: deadline, sending TERM to 1 child}, 'drain 1+1: the deadline line');
  like($text, qr{tcpserver: end \d+ status 15\n}, 'drain 1+1: the program ended by TERM (status 15)');
  unlike($text, qr{drain: sending KILL}, 'drain 1+1: no KILL needed (cat ends on TERM)');
  ok(wait_until(10, $down), 'drain 1+1: the service is down');
  system('svc', '-dx', $svc, "$svc/log");
  done_testing();
};

subtest 'systemd: ucspi-echo.socket and .service under systemd-socket-activate' => sub {
  my $activate = '/usr/bin/systemd-socket-activate';
  plan skip_all => 'no systemd-socket-activate (package systemd)' unless -x $activate;
  my $socket = slurp("$examples/systemd/ucspi-echo.socket");
  my $service = slurp("$examples/systemd/ucspi-echo.service");
  like($socket, qr{^Accept=no$}m, 'the socket unit: Accept=no (one tcpserver, as systemd-socket-activate without -a)');
  my ($listen) = $socket =~ m{^ListenStream=(\S+)$}m;
  is($listen, '7', 'the socket unit listens on port 7');
  like($service, qr{^Requires=ucspi-echo\.socket$}m, 'the service requires its socket');
  like($service, qr{^ExecStart=.* -G }m, 'the service drains on restart (-G)');
  like($service, qr{^KillMode=process$}m, 'with KillMode=process, or systemd would end the drain\'s connections');
  like($service, qr{^TimeoutStopSec=\d+$}m, 'and a bounded TimeoutStopSec');
  my ($exec) = $service =~ m{^ExecStart=(.+)$}m;
  my @cmd = split ' ', $exec // '';
  is($cmd[0], '/usr/bin/tcpserver', 'ExecStart runs the installed tcpserver');
  $cmd[0] = "$bin/tcpserver";   # ours, not the one installed
  my $notify = $service =~ m{^Type=notify$}m;
  ok($notify, 'Type=notify');
  socket(my $n, Socket::AF_UNIX(), Socket::SOCK_DGRAM(), 0) or die "socket: $!";
  bind($n, Socket::pack_sockaddr_un("$scratch/notify")) or die "bind: $!";
  local $ENV{NOTIFY_SOCKET} = "$scratch/notify";
  my $port;
  for my $try (1 .. 5) {
    $port = free_port();
    start_supervisor($scratch, $activate, '-l', "127.0.0.1:$port", '-E', 'NOTIFY_SOCKET', @cmd);
    last if wait_until(5, sub { slurp("$scratch/supervisors.out") =~ m{Listening on 127\.0\.0\.1:$port } });
  }
  is(echo_once($port, 'activated'), "activated\n", 'the first connection starts tcpserver and is echoed');
  is(echo_once($port, 'again'), "again\n", 'and the next');
  my $rin = '';
  vec($rin, fileno($n), 1) = 1;
  my $msg = '';
  recv($n, $msg, 100, 0) if select(my $rout = $rin, undef, undef, 5);
  is($msg, 'READY=1', 'READY=1 on NOTIFY_SOCKET');
  like(slurp("$scratch/supervisors.out"), qr{^tcpserver: ok \d+ 0:127\.0\.0\.1:$port :127\.0\.0\.1::\d+$}m,
    'the -v log (the journal\'s) shows the connection on the passed socket');
  done_testing();
};

subtest 'qmail-smtpd style: tcprules one-liner, rblsmtpd, fake SMTP, under svscan' => sub {
  for (qw(svscan svc multilog)) { plan skip_all => "no $_ (package daemontools)" unless have_tool($_) }
  plan skip_all => 'needs root (tcpserver -u/-g of the run script)' unless $> == 0;
  my ($uid, $gid) = (scalar getpwnam('nobody'), scalar getgrnam('nogroup'));
  plan skip_all => 'no user nobody or group nogroup' unless defined $uid && defined $gid;
  my $port = free_port();
  my $etc = "$scratch/qmail/etc";
  my $svc = "$scratch/qmail/service/smtpd";
  system('mkdir', '-p', $etc) == 0 or die;
  system('cp', "$examples/qmail-smtpd/tcp.smtp", "$etc/tcp.smtp") == 0 or die;
  my $smtpd = "$scratch/qmail/fake-smtpd";
  spew($smtpd, <<'EOF');
#!/bin/sh
# A stand-in for qmail-smtpd: greets, says whether relaying is allowed.
echo "220 fake.example ESMTP relay=${RELAYCLIENT+yes}"
while read -r line; do
  case $line in
    QUIT*) echo "221 bye"; exit 0 ;;
    *) echo "250 ok" ;;
  esac
done
EOF
  chmod 0755, $smtpd, "$scratch/qmail";
  my $compile = "tcprules $etc/tcp.smtp.cdb $etc/tcp.smtp.tmp < $etc/tcp.smtp";
  is(system($compile), 0, 'tcp.smtp compiled by the one-liner');
  service_copy('qmail-smtpd', $svc, join('', "IP=127.0.0.1\n", "PORT=$port\n",
    "RULES=$etc/tcp.smtp.cdb\n", "SMTPD=$smtpd\n", "RBL=rbl.invalid\n",
    "QMAILDUID=$uid\n", "NOFILESGID=$gid\n"));
  unlink "$svc/tcp.smtp";
  start_supervisor("$scratch/qmail/service", 'svscan', '.');
  my $log = "$svc/log/main/current";
  ok(wait_until(20, sub { slurp($log) =~ m{tcpserver: status: 0/40} }), 'smtpd runs')
    or diag(slurp($log) . slurp("$scratch/supervisors.out"));

  my $talk = sub {
    my @lines;
    eval {
      alarm 15;
      my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port) or die "refused\n";
      push @lines, scalar <$c>;
      for my $cmd ('HELO test.example', 'MAIL FROM:<a@test.example>', 'RCPT TO:<b@test.example>', 'QUIT') {
        print $c "$cmd\r\n";
        $c->flush;
        push @lines, scalar <$c>;
      }
      close $c;
      alarm 0;
    };
    alarm 0;
    return join('', map { defined $_ ? $_ : '' } @lines);
  };
  my $got = $talk->();
  like($got, qr{^220 fake\.example ESMTP relay=yes}, '127.: the SMTP program, with RELAYCLIENT, no RBL lookup');
  like($got, qr{^250 ok}m, 'the dialogue reaches the SMTP program');
  ok(wait_until(10, sub { slurp($log) =~ m{tcpserver: ok \d+ 0:127\.0\.0\.1:$port [^:]*:127\.0\.0\.1::\d+} }),
    'ok line logged') or diag(slurp($log));

  # A new rule applies to the next connection, without a restart.
  my $rules = slurp("$etc/tcp.smtp");
  $rules =~ s{^127\.:.*$}{127.:allow,RBLSMTPD="-refused by the test"}m;
  spew("$etc/tcp.smtp", $rules);
  is(system($compile), 0, 'tcp.smtp recompiled');
  $got = $talk->();
  like($got, qr{^553 refused by the test}m, 'RBLSMTPD="-..." from the rules: rblsmtpd refuses with 553')
    or diag($got);
  unlike($got, qr{fake\.example}, 'the SMTP program is not run');
  ok(wait_until(10, sub { slurp($log) =~ m{rblsmtpd: 127\.0\.0\.1 pid \d+: 553 refused by the test} }),
    'rblsmtpd logs the refusal') or diag(slurp($log));
  system('svc', '-dx', $svc, "$svc/log");
  done_testing();
};

done_testing();
