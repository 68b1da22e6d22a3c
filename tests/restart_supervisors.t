#!/usr/bin/perl
# Restarts with no refused connection (tcpserver -G): the rolling-restart
# recipe of man/tcpserver.1, run by the real supervisors (daemontools
# svscan/supervise/svc, runit runsv/sv, s6 s6-svscan/s6-svc).  For each:
#   - the supervisor's own restart pause, measured by a prober (a
#     connection every 100 ms) across a restart with no client;
#   - a restart with two clients connected: the front process the
#     supervisor started exits at once and the new instance serves; the
#     prober is never refused for longer than that pause (and never for
#     the drain); the clients keep their connections, one ended by TERM
#     at the deadline, the other (which ignores TERM) by KILL after it;
#     the log holds the drain's lines (naming the old server's pid), the
#     ends of the old connections, and the new instance's lines;
#   - nothing of the old instance is left after the deadline, no zombie;
#   - down (svc -d, sv down, s6-svc -d) with a client: down at once for
#     new clients, the client served until the deadline.
#   - a restart just after up: the supervisor holds the next start until
#     the instance has run a second (runsv and s6-supervise; supervise
#     holds the signal instead); no refusal longer than that hold.
# The figures (pause, refused windows, how long the front took to exit)
# are printed as notes.  Every process started is ended by pid: those
# whose working directory is in the scratch directory.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Restart;
use Test::More;
use Cwd qw(abs_path);
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

need_ours('tcpserver');
my $bin = abs_path(ours());
$ENV{PATH} = "$bin:$ENV{PATH}";
my $root = abs_path("$FindBin::Bin/..");
my $scratch = tmpdir();
chmod 0755, $scratch;
skip_all('cannot become a child subreaper (prctl)') unless subreaper();

my ($drain, $kill) = (2, 1);   # -G 2+1

# ---- the recipe of the man page, as a run script

my ($recipe) = grep { /^exec tcpserver .*\\-G / } split /\n/, slurp("$root/man/tcpserver.1");
$recipe //= '';
$recipe =~ s/\\-/-/g;
$recipe =~ s/\\e/\\/g;
ok($recipe =~ /-G \S+/, "the man page has a rolling-restart recipe: $recipe");

# The recipe's line with the drain, address and program of the test;
# -N 3 (s6's notification-fd) only where there is one.
sub run_script {
  my ($notify) = @_;
  my $cmd = $recipe;
  $cmd =~ s/-G \S+/-G "\$DRAIN"/;
  $cmd =~ s/ -N 3// unless $notify;
  $cmd =~ s/ \S+ \S+ \S+$/ "\$IP" "\$PORT" .\/prog/;
  return "#!/bin/sh\nexec 2>&1\n. ./conf\n$cmd\n";
}

# The service: echoes lines; after a line "ignore" it ignores SIGTERM.
my $prog = <<'EOF';
#!/bin/sh
while IFS= read -r line; do
  [ "$line" = ignore ] && trap '' TERM
  printf '%s\n' "$line"
done
EOF

sub service_dir {
  my ($dir, $port, $logger, $notify) = @_;
  system('mkdir', '-p', "$dir/log") == 0 or die;
  spew("$dir/run", run_script($notify));
  spew("$dir/conf", "IP=127.0.0.1\nPORT=$port\nDRAIN=$drain+$kill\n");
  spew("$dir/prog", $prog);
  spew("$dir/log/run", "#!/bin/sh\nmkdir -p ./main\nexec $logger ./main\n");
  spew("$dir/notification-fd", "3\n") if $notify;
  chmod 0755, "$dir/run", "$dir/prog", "$dir/log/run";
}

# ---- processes

sub ours_running { return working_in($scratch) }
sub kill_all {
  for my $sig ('TERM', 'KILL') {
    my @p = ours_running();
    last unless @p;
    kill $sig, @p;
    my $until = time + 5;
    while (time < $until && ours_running()) { sleep 0.1; 1 while waitpid(-1, WNOHANG) > 0 }
  }
  1 while waitpid(-1, WNOHANG) > 0;
}
END { local $?; kill_all() }

sub start_supervisor {
  my ($cwd, @cmd) = @_;
  return background(sub {
    setpgrp(0, 0);
    chdir $cwd or POSIX::_exit(127);
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$scratch/supervisors.out";
    open STDERR, '>&', \*STDOUT;
    exec @cmd;
  });
}

sub connect_to {
  my ($port) = @_;
  return IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 2);
}

sub serves {
  my ($port) = @_;
  my $c = connect_to($port) or return 0;
  my $got = echo_line($c, 'hello', 2);
  return defined $got && $got eq "hello\n";
}

# The one child of the front: the server that listens and is the
# parent of the connections.
sub server_of {
  my ($front) = @_;
  my @k;
  wait_until(5, sub { @k = grep { $_->[1] ne 'Z' } children($front); @k == 1 });
  return @k == 1 ? $k[0][0] : undef;
}

sub strip_stamps { my ($t) = @_; $t =~ s/^\S+ (?=tcpserver:)//mg; return $t }

# Each of the patterns matches a line of TEXT, in this order.
sub lines_in_order {
  my ($text, @res) = @_;
  my @lines = split /\n/, $text;
  my $i = 0;
  for my $re (@res) {
    $i++ while $i < @lines && $lines[$i] !~ $re;
    return 0 if $i >= @lines;
    $i++;
  }
  return 1;
}

my @figures;

# ---- one supervisor: %s has dir, port, log, pid (the supervised pid,
# undef when down), restart, down, up, and the readiness wait.
sub check_supervisor {
  my ($name, $s) = @_;
  my $port = $s->{port};
  my $log = sub { strip_stamps(slurp("$s->{dir}/log/main/current")) };
  ok(wait_until(20, sub { serves($port) }), "$name: the service answers")
    or return diag(slurp("$scratch/supervisors.out") . $log->());
  my $front = $s->{pid}->();
  ok($front, "$name: the supervisor names its pid ($front)");
  my $server = server_of($front);
  ok($server && $server != $front, "$name: the front has one child, the server ($server)");

  # The supervisor's own pause: a restart with no client, once the
  # instance ran long enough (supervise, runsv and s6-supervise wait
  # until it has run a second before they start the next one).
  sleep 1.2;
  my $pfile = "$scratch/$name-probe0";
  my $prober = start_prober($port, $pfile);
  sleep 0.5;
  my $t0 = time;
  $s->{restart}->();
  my $new;
  wait_until(10, sub { $new = $s->{pid}->(); $new && $new != $front });
  my $pause = time - $t0;
  ok(wait_until(10, sub { serves($port) }), "$name: serves after a restart with no client");
  sleep 0.5;
  stop_prober($prober);
  my ($base, $basefails, $basetries) = refused_window($pfile);
  ok($basetries > 5, "$name: the prober ran ($basetries tries)");
  ok(wait_until(5, sub { !alive($server) }), "$name: with no connection the old server ends at once");
  reap($server);
  $front = $new;
  $server = server_of($front);
  sleep 1.2;

  # Two clients through a restart.
  my $c1 = connect_to($port);
  my $c2 = connect_to($port);
  is(echo_line($c1, 'one'), "one\n", "$name: client 1 served");
  is(echo_line($c2, 'ignore'), "ignore\n", "$name: client 2 served (it ignores TERM from now on)");
  my @progs;
  wait_until(5, sub { @progs = map { $_->[0] } grep { $_->[1] ne 'Z' } children($server); @progs == 2 });
  is(scalar @progs, 2, "$name: two programs run under the server");
  # Which program serves which client: by the client's port.
  my %by_port = map { (slurp("/proc/$_/environ") =~ /(?:^|\0)TCPREMOTEPORT=(\d+)/ ? $1 : 0) => $_ } @progs;
  @progs = ($by_port{ $c1->sockport } // 0, $by_port{ $c2->sockport } // 0);
  $pfile = "$scratch/$name-probe1";
  $prober = start_prober($port, $pfile);
  sleep 0.5;
  my $t1 = time;
  $s->{restart}->();
  ok(wait_until(2, sub { !alive($front) }), "$name: the front exits at once");
  my $front_took = time - $t1;
  wait_until(10, sub { $new = $s->{pid}->(); $new && $new != $front });
  my $pause1 = time - $t1;
  ok($new && $new != $front, "$name: the supervisor started a new instance (pid $new)");
  ok(wait_until(5, sub { serves($port) }), "$name: the new instance serves while the old connections run");
  ok(alive($server), "$name: the old server still runs, for its connections");
  is(echo_line($c1, 'two'), "two\n", "$name: client 1 keeps its connection through the restart");
  my $eof1;
  read_to_eof($c1, $drain + 3, \$eof1);
  my $end1 = time - $t1;
  ok($eof1 && $end1 > $drain - 0.3 && $end1 < $drain + 0.8,
     sprintf("%s: client 1 ended at the deadline, by TERM (%.2f s)", $name, $end1));
  my $eof2;
  read_to_eof($c2, $kill + 3, \$eof2);
  my $end2 = time - $t1;
  ok($eof2 && $end2 > $drain + $kill - 0.3 && $end2 < $drain + $kill + 0.8,
     sprintf("%s: client 2 (ignoring TERM) ended by KILL after %d+%d s (%.2f s)", $name, $drain, $kill, $end2));
  ok(wait_until(3, sub { !alive($server) }), "$name: the old server exits after its last connection");
  ok(!grep({ alive($_) } @progs), "$name: nothing of the old instance is left");
  reap($server);
  ok(wait_until(3, sub { !stray_zombies($$) }), "$name: no zombie")
    or diag(join ' ', map { "$_->[0] (parent $_->[1])" } stray_zombies($$));
  sleep 0.3;
  stop_prober($prober);
  my ($win, $fails, $tries) = refused_window($pfile);
  my $bound = ($base > $pause ? $base : $pause) + 0.3;
  ok($win <= $bound, sprintf("%s: refused for %.2f s at most, within the supervisor's pause (%.2f s) + 0.3", $name, $win, $bound - 0.3));
  ok($win < $drain, "$name: never for the drain");
  push @figures, sprintf("%-11s pause (no client) %.2f s, refused %.2f s (%d of %d tries); "
    . "with 2 clients: front exited in %.3f s, new pid after %.2f s, refused %.2f s (%d of %d tries)",
    $name, $pause, $base, $basefails, $basetries, $front_took, $pause1, $win, $fails, $tries);

  # The log: the old server's drain, its connections' ends, the new one's lines.
  my ($p1, $p2) = @progs;
  my $text;
  ok(wait_until(5, sub { $text = $log->(); $text =~ /drain: done/ }), "$name: the drain's last line is logged")
    or diag($text);
  ok(lines_in_order($text, qr/^tcpserver: drain: pid $server stopped accepting, waiting for \d+ child(?:ren)?$/,
                    qr/^tcpserver: status: 0\/40$/,
                    qr/^tcpserver: drain: deadline, sending TERM to \d+ child(?:ren)?$/,
                    qr/^tcpserver: drain: sending KILL to 1 child$/,
                    qr/^tcpserver: drain: done$/),
     "$name: log: the drain names the old server, the new instance starts, TERM, KILL, done") or diag($text);
  like($text, qr/^tcpserver: end $p1 status 15$/m, "$name: client 1's program: status 15 (TERM)");
  like($text, qr/^tcpserver: end $p2 status 9$/m, "$name: client 2's program: status 9 (KILL)");
  unlike($text, qr/fatal/, "$name: no fatal line (the new instance bound the port at once)");

  # Down with a client: down at once, the client served to the deadline.
  $front = $s->{pid}->();
  $server = server_of($front);
  my $c3 = connect_to($port);
  is(echo_line($c3, 'three'), "three\n", "$name: a client before down");
  my $t3 = time;
  $s->{down}->();
  ok(wait_until(3, sub { !$s->{pid}->() }), "$name: down at once");
  ok(wait_until(2, sub { !connect_to($port) }), "$name: new connections refused once down");
  is(echo_line($c3, 'four'), "four\n", "$name: the connected client still served");
  my $eof3;
  read_to_eof($c3, $drain + 3, \$eof3);
  my $end3 = time - $t3;
  ok($eof3 && $end3 > $drain - 0.3 && $end3 < $drain + 0.8,
     sprintf("%s: and ended at the deadline (%.2f s)", $name, $end3));
  ok(wait_until(3, sub { !alive($server) }), "$name: the old server ends");
  reap($server);
  $s->{up}->();
  ok(wait_until(10, sub { serves($port) }), "$name: up again");

  # The supervisor's hold: a restart of an instance that has run less
  # than a second waits until it has.  Still no longer refused than that.
  $front = $s->{pid}->();
  my $up_since = time;
  $pfile = "$scratch/$name-probe2";
  $prober = start_prober($port, $pfile);
  $s->{restart}->();
  wait_until(5, sub { $new = $s->{pid}->(); $new && $new != $front });
  my $hold = time - $up_since;
  ok(wait_until(5, sub { serves($port) }), "$name: serves after a restart just after up");
  sleep 0.3;
  stop_prober($prober);
  my ($young) = refused_window($pfile);
  ok($young <= $hold + 0.3, sprintf('%s: refused for %.2f s at most, within the hold (%.2f s)', $name, $young, $hold));
  push @figures, sprintf('%-11s restart just after up: next pid after %.2f s, refused %.2f s',
                         $name, $hold, $young);
  wait_until(3, sub { !alive(server_of($front) // 0) });
}

# ---- the supervisors

subtest 'daemontools: svscan, supervise, svc' => sub {
  for (qw(svscan supervise svc svstat multilog)) { plan skip_all => "no $_ (package daemontools)" unless have_tool($_) }
  my $dir = "$scratch/dt/service/restart";
  my $port = free_port();
  service_dir($dir, $port, 'multilog');
  start_supervisor("$scratch/dt/service", 'svscan', '.');
  my $svc = sub { system('svc', @_, $dir) == 0 or diag("svc @_ failed") };
  check_supervisor('daemontools', {
    dir => $dir, port => $port,
    pid => sub { `svstat $dir` =~ /: up \(pid (\d+)\)/ ? $1 : undef },
    restart => sub { $svc->('-t') },
    down => sub { $svc->('-d') },
    up => sub { $svc->('-u') },
  });
  system('svc', '-dx', $dir, "$dir/log");
  done_testing();
};

subtest 'runit: runsv, sv' => sub {
  for (qw(runsv sv svlogd)) { plan skip_all => "no $_ (package runit)" unless have_tool($_) }
  my $dir = "$scratch/runit/restart";
  my $port = free_port();
  service_dir($dir, $port, 'svlogd');
  start_supervisor("$scratch/runit", 'runsv', 'restart');
  # sv restart waits for the service to be up again: in the background.
  my $sv = sub { my @a = @_; background(sub { open STDOUT, '>', '/dev/null'; exec 'sv', @a, $dir }) };
  check_supervisor('runit', {
    dir => $dir, port => $port,
    pid => sub { `sv status $dir 2>/dev/null` =~ /^run: [^:]*: \(pid (\d+)\)/ ? $1 : undef },
    restart => sub { $sv->('restart') },
    down => sub { $sv->('down') },
    up => sub { $sv->('up') },
  });
  system("sv exit $dir >/dev/null 2>&1");
  done_testing();
};

subtest 's6: s6-svscan, s6-supervise, s6-svc' => sub {
  for (qw(s6-svscan s6-supervise s6-svc s6-svstat s6-svwait s6-log)) { plan skip_all => "no $_ (package s6)" unless have_tool($_) }
  my $scan = "$scratch/s6/scan";
  my $dir = "$scan/restart";
  my $port = free_port();
  service_dir($dir, $port, 's6-log', 1);
  start_supervisor($scan, 's6-svscan', '.');
  ok(wait_until(10, sub { -d "$dir/supervise" }), 's6: s6-supervise runs');
  is(system('s6-svwait', '-U', '-t', '20000', $dir), 0, 's6: up and ready (notification-fd, -N 3)');
  my $svc = sub { system('s6-svc', @_, $dir) == 0 or diag("s6-svc @_ failed") };
  check_supervisor('s6', {
    dir => $dir, port => $port,
    pid => sub { my $p = `s6-svstat -o pid $dir 2>/dev/null`; $p =~ /^(\d+)$/ && $1 > 0 ? $1 : undef },
    restart => sub { $svc->('-r') },
    down => sub { $svc->('-d') },
    up => sub { $svc->('-u') },
  });
  is(system('s6-svwait', '-U', '-t', '20000', $dir), 0, 's6: ready again after up');
  system('s6-svscanctl', '-t', $scan);
  done_testing();
};

note($_) for @figures;
diag($_) for $ENV{UCSPI_FIGURES} ? @figures : ();
done_testing();
