# The tls part of `make bench` (BENCH_ONLY=tls), loaded by bench/run.pl,
# whose helpers it uses (say_, start_server, stop_server, cpu_seconds,
# median, ratio, fmt).  Loopback only, each run bounded in time.
#
# - Sequential full handshakes: `openssl s_time -new -www /` for
#   BENCH_TLS_SECONDS (5) against tlsserver running bench/okchild, a bare
#   `openssl s_server -www` (no fork, no program) and stunnel4 in exec
#   mode (a program per connection); connections counted against the
#   wall clock (s_time's second line), not its first line (per CPU
#   second of the client).
# - Resumed handshakes against tlsserver: s_time -reuse.
# - Concurrent handshakes (bench/tlsload, c=16 and 64, BENCH_TLS_CONNS
#   (2000) a run): tlsserver (full; resumed with -R) against hitch and
#   stunnel4 (connect mode) in front of tcpserver, all running okchild.
# - A flood from one client over -C 1 (BENCH_LIMIT_CONNS, 20000
#   connections): the parent's CPU per refusal, tlsserver against
#   tcpserver (the refusal is made before any handshake).
# - A download of BENCH_TLS_MIB (512) MiB through tlsclient from
#   tlsserver, stunnel4 (exec) and hitch in front of tcpserver.
# - The parent's CPU per connection: tlsserver's during the full
#   handshakes against tcpserver's with plain connections (loadgen),
#   back to back and at the handshakes' pace; the spawner's beside it.
use strict;
use warnings;

our ($ours, $tools, $work, $rounds, $child);
my $tls_seconds = $ENV{BENCH_TLS_SECONDS} || 5;
my $tls_mib = $ENV{BENCH_TLS_MIB} || 512;
my $tls_conns = $ENV{BENCH_TLS_CONNS} || 2000;

# A P-256 certificate for localhost, made once in the work directory.
sub tls_cert {
  my $crt = "$work/tls.pem";
  return $crt if -s $crt;
  system('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
         '-keyout', $crt, '-out', "$work/tls.crt", '-days', '30', '-subj', '/CN=localhost',
         '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1') == 0 or return undef;
  open my $o, '>>', $crt or return undef;
  open my $c, '<', "$work/tls.crt" or return undef;
  print {$o} <$c>;
  return $crt;
}

sub free_port_tls {
  my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die;
  return $s->sockport;
}

# A server that cannot print its port: started on a free one, waited for.
sub start_on_port {
  my ($port, @cmd) = @_;
  my $pid = fork // die;
  if (!$pid) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    exec { $cmd[0] } @cmd or POSIX::_exit(127);
  }
  for (1 .. 100) {
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
    return $pid if $c;
    select undef, undef, undef, 0.05;
  }
  kill 'KILL', $pid;
  waitpid $pid, 0;
  return undef;
}

sub stop_pid_tls {
  my ($pid) = @_;
  kill 'TERM', $pid;
  for (1 .. 50) { return if waitpid($pid, POSIX::WNOHANG()) == $pid; select undef, undef, undef, 0.1 }
  kill 'KILL', $pid;
  waitpid $pid, 0;
}

# Connections a second of s_time (full or reuse) against port.
sub s_time {
  my ($port, $mode) = @_;
  my $out = `timeout @{[$tls_seconds + 30]} openssl s_time -connect 127.0.0.1:$port -$mode -www / -time $tls_seconds 2>/dev/null`;
  return $out =~ /(\d+) connections in (\d+) real seconds/ && $2 ? $1 / $2 : undef;
}

# stunnel4 running a program (exec mode), or forwarding to a port.
sub stunnel_conf {
  my ($port, $crt, @exec) = @_;
  my $conf = "$work/stunnel-$port.conf";
  open my $f, '>', $conf or die;
  print $f "foreground = yes\npid =\n[bench]\naccept = 127.0.0.1:$port\ncert = $crt\n",
           $exec[0] =~ /^\d+$/ ? "connect = 127.0.0.1:$exec[0]\n" : "exec = $exec[0]\nexecArgs = @exec\n";
  close $f;
  return $conf;
}

# tlsload's line against port.
sub tlsload {
  my ($port, $c, @extra) = @_;
  my $line = `CAFILE=$work/tls.crt timeout 120 $tools/tlsload -c $c -n $tls_conns -t 60 -e 3 @extra 127.0.0.1 $port`;
  my %r = $line =~ /(\w+)=([\d.]+)/g;
  return $r{failed} || $r{unfinished} ? undef : $r{cps};
}

# A TLS terminator in front of tcpserver running okchild: its pids.
sub front {
  my ($kind, $crt) = @_;
  my ($tp, $tport, $tfh) = start_server("$ours/tcpserver", '-1', '-q', '-RH', '-l', 'x', '-c', '200',
                                        '-b', '1024', '127.0.0.1', '0', $child);
  my $port = free_port_tls();
  my $conf = $kind eq 'hitch' ? hitch_conf($port, $tport, $crt) : stunnel_conf($port, $crt, $tport);
  my @cmd = $kind eq 'hitch' ? ('/usr/sbin/hitch', '--config', $conf) : ('/usr/bin/stunnel4', $conf);
  my $pid = start_on_port($port, @cmd);
  return ($pid, $port, $tp, $tfh);
}

sub bench_tls_concurrent {
  my ($crt) = @_;
  return unless -x "$tools/tlsload";
  my %cps;
  for my $c (16, 64) {
    for my $round (1 .. $rounds) {
      my ($pid, $port, $fh) = start_server("$ours/tlsserver", '-1', '-q', '-RH', '-l', 'x', '-c', '200',
                                           '-b', '1024', '127.0.0.1', '0', $child);
      push @{ $cps{$c}{full} }, tlsload($port, $c);
      push @{ $cps{$c}{resumed} }, tlsload($port, $c, '-R');
      stop_server($pid, $fh);
      for my $kind (grep { -x ($_ eq 'hitch' ? '/usr/sbin/hitch' : '/usr/bin/stunnel4') } qw(hitch stunnel)) {
        my ($fpid, $fport, $tp, $tfh) = front($kind, $crt);
        push @{ $cps{$c}{$kind} }, $fpid ? tlsload($fport, $c) : undef;
        stop_pid_tls($fpid) if $fpid;
        stop_server($tp, $tfh);
      }
    }
  }
  say_('');
  say_("### TLS concurrent handshakes (bench/tlsload, $tls_conns connections a run, connections a second)");
  say_('');
  say_('| c | tlsserver | resumed | hitch -> tcpserver | stunnel4 -> tcpserver | vs hitch | vs stunnel4 | resumed / full |');
  say_('|---|---|---|---|---|---|---|---|');
  for my $c (16, 64) {
    my %m = map { $_ => median(@{ $cps{$c}{$_} || [] }) } qw(full resumed hitch stunnel);
    say_("| $c | " . join(' | ', map { fmt($m{$_}) } qw(full resumed hitch stunnel)) . ' | ' .
         join(' | ', ratio($m{full}, $m{hitch}), ratio($m{full}, $m{stunnel}), ratio($m{resumed}, $m{full})) . ' |');
  }
  say_('');
  say_('Targets: >= 1.2 against hitch and stunnel4 in front of tcpserver; resumed >= 1.5 full.');
}

sub hitch_conf {
  my ($port, $backend, $crt) = @_;
  my $conf = "$work/hitch-$port.conf";
  open my $f, '>', $conf or die;
  print $f "frontend = \"[127.0.0.1]:$port\"\nbackend = \"[127.0.0.1]:$backend\"\n",
           "pem-file = \"$crt\"\nworkers = 2\ndaemon = off\nuser = \"nobody\"\n";
  close $f;
  return $conf;
}

# Seconds to download the MiB through tlsclient from port.
sub download {
  my ($port) = @_;
  my $t0 = Time::HiRes::time();
  my $got = `CAFILE=$work/tls.crt timeout 120 $ours/tlsclient -RH -k localhost 127.0.0.1 $port sh -c 'wc -c <&6'`;
  my $t = Time::HiRes::time() - $t0;
  return ($got // '') =~ /^\s*(\d+)/ && $1 == $tls_mib * 1048576 ? $t : undef;
}

# tlsserver's spawner: its oldest child (the engines and the standby come
# later).  undef when there is none.
sub spawner_of {
  my ($ppid) = @_;
  my ($best, $start);
  for my $pid (map { m{^/proc/(\d+)$} } glob('/proc/[0-9]*')) {
    my @f = proc_stat($pid);
    next unless @f && $f[1] == $ppid;
    ($best, $start) = ($pid, $f[19]) if !defined $start || $f[19] < $start;
  }
  return $best;
}

# Minor page faults of a process and of its reaped children (engines and,
# through them, the programs), plus the spawner's own.
sub tree_faults {
  my (@pids) = @_;
  my $n = 0;
  for my $pid (grep { defined } @pids) {
    my @f = proc_stat($pid) or return undef;
    $n += $f[7] + $f[8];
  }
  return $n;
}

sub sum_or_undef { return (grep { !defined } @_) ? undef : $_[0] + $_[1] }

sub bench_tls {
  my $crt = tls_cert();
  if (!$crt || !-x "$ours/tlsserver" || !-x "$ours/tlsclient") {
    say_('### TLS: not run (tlsserver, tlsclient or the openssl command missing)');
    return;
  }
  my %env = (CERTFILE => $crt);
  local @ENV{keys %env} = values %env;
  my (%rate, %cpu);
  for my $round (1 .. $rounds) {
    # tlsserver: full, resumed, the parent's CPU.
    my ($pid, $port, $fh) = start_server("$ours/tlsserver", '-1', '-q', '-RH', '-l', 'x', '-c', '200',
                                         '127.0.0.1', '0', $child);
    my $helper;
    for (1 .. 50) { last if $helper = spawner_of($pid); select undef, undef, undef, 0.02 }
    my $c0 = cpu_seconds($pid);
    my $h0 = $helper ? cpu_seconds($helper) : undef;
    my $f0 = tree_faults($pid, $helper);
    my $full = s_time($port, 'new');
    my $c1 = cpu_seconds($pid);
    my $h1 = $helper ? cpu_seconds($helper) : undef;
    my $f1 = tree_faults($pid, $helper);
    push @{ $cpu{faults} }, $full && defined $f0 && defined $f1 ? ($f1 - $f0) / ($full * $tls_seconds) : undef;
    push @{ $rate{ours} }, $full;
    push @{ $cpu{ours} }, $full ? ($c1 - $c0) / ($full * $tls_seconds) * 1e6 : undef;
    push @{ $cpu{spawner} }, $full && defined $h0 && defined $h1 ? ($h1 - $h0) / ($full * $tls_seconds) * 1e6 : undef;
    push @{ $rate{resumed} }, s_time($port, 'reuse');
    stop_server($pid, $fh);
    # Plain tcpserver's parent CPU per connection.
    ($pid, $port, $fh) = start_server("$ours/tcpserver", '-1', '-q', '-RH', '-l', 'x', '-c', '200',
                                      '127.0.0.1', '0', $child);
    $c0 = cpu_seconds($pid);
    my $r = loadgen($port, 1, 5000);
    $c1 = cpu_seconds($pid);
    push @{ $cpu{tcpserver} }, $r->{completed} ? ($c1 - $c0) / $r->{completed} * 1e6 : undef;
    stop_server($pid, $fh);
    # And at the pace of the TLS run: its parent then sleeps and wakes for
    # each connection and each end, as tlsserver's does under s_time.
    if ($full) {
      ($pid, $port, $fh) = start_server("$ours/tcpserver", '-1', '-q', '-RH', '-l', 'x', '-c', '200',
                                        '127.0.0.1', '0', $child);
      $c0 = cpu_seconds($pid);
      $r = loadgen($port, 1, int($full * $tls_seconds), '-r', sprintf('%.0f', $full));
      $c1 = cpu_seconds($pid);
      push @{ $cpu{paced} }, $r->{completed} ? ($c1 - $c0) / $r->{completed} * 1e6 : undef;
      stop_server($pid, $fh);
    }
    # openssl s_server -www.
    my $sp = free_port_tls();
    my $spid = start_on_port($sp, 'openssl', 's_server', '-quiet', '-www', '-accept', "127.0.0.1:$sp", '-cert', $crt);
    push @{ $rate{s_server} }, $spid ? s_time($sp, 'new') : undef;
    stop_pid_tls($spid) if $spid;
    # stunnel4, exec mode.
    if (-x '/usr/bin/stunnel4') {
      my $st = free_port_tls();
      my $stpid = start_on_port($st, '/usr/bin/stunnel4', stunnel_conf($st, $crt, $child));
      push @{ $rate{stunnel} }, $stpid ? s_time($st, 'new') : undef;
      stop_pid_tls($stpid) if $stpid;
    }
  }
  say_('');
  say_("### TLS handshakes (openssl s_time, ${tls_seconds} s a run, connections a second by the wall clock)");
  say_('');
  say_('| server | full/s | vs tlsserver |');
  say_('|---|---|---|');
  my $o = median(@{ $rate{ours} });
  for my $k (qw(ours resumed s_server stunnel)) {
    next unless $rate{$k};
    my $m = median(@{ $rate{$k} });
    my $name = { ours => 'tlsserver (okchild per connection)', resumed => 'tlsserver, resumed (-reuse)',
                 s_server => 'openssl s_server -www (no fork, no program)', stunnel => 'stunnel4 exec mode' }->{$k};
    say_("| $name | " . fmt($m) . ' | ' . ratio($o, $m) . ' |');
  }
  say_('');
  say_('Targets: tlsserver / s_server >= 0.8, tlsserver / stunnel4 >= 3, resumed / full >= 1.5 (here ' .
       ratio(median(@{ $rate{resumed} }), $o) . ').');
  say_('Parent CPU per connection: tlsserver ' . fmt(median(@{ $cpu{ours} }), '%.1f') . ' us (full handshakes), tcpserver ' .
       fmt(median(@{ $cpu{tcpserver} }), '%.1f') . ' us (plain): ' . ratio(median(@{ $cpu{ours} }), median(@{ $cpu{tcpserver} })) .
       'x (target <= 1.1).');
  say_('The spawner (the helper that clones the engines, off the parent\'s path) ' .
       fmt(median(@{ $cpu{spawner} }), '%.1f') . ' us per connection; parent and spawner together ' .
       ratio(sum_or_undef(median(@{ $cpu{ours} }), median(@{ $cpu{spawner} })), median(@{ $cpu{tcpserver} })) .
       'x tcpserver\'s parent.');
  say_('Page faults per connection in the server\'s processes (parent, spawner, engines, programs): ' .
       fmt(median(@{ $cpu{faults} }), '%.0f') . '.');
  say_('Plain tcpserver at the pace of the TLS run (loadgen -c 1 -r, the full handshakes\' rate): ' .
       fmt(median(@{ $cpu{paced} }), '%.1f') . ' us per connection; tlsserver\'s parent ' .
       ratio(median(@{ $cpu{ours} }), median(@{ $cpu{paced} })) . 'x that.');
  bench_tls_concurrent($crt);
  bench_tls_refusals();
  bench_tls_relay($crt);
}

sub bench_tls_refusals {
  my (%us);
  for my $round (1 .. $rounds) {
    push @{ $us{$_} }, cpu_refused(0, $_, $_ eq 'tlsserver' ? ('-w', '120') : ())->{us} for qw(tlsserver tcpserver);
  }
  my ($t, $p) = (median(@{ $us{tlsserver} }), median(@{ $us{tcpserver} }));
  say_('');
  say_('### TLS: a flood over -C 1 (the parent\'s CPU per refusal, before any handshake)');
  say_('');
  say_('tlsserver ' . fmt($t, '%.1f') . ' us, tcpserver ' . fmt($p, '%.1f') . ' us: ' . ratio($t, $p) . 'x.');
}

sub bench_tls_relay {
  my ($crt) = @_;
  my $prog = "$work/tls-download";
  open my $f, '>', $prog or die;
  print $f "#!/bin/sh\nexec head -c ${tls_mib}M /dev/zero\n";
  close $f;
  chmod 0755, $prog;
  my %t;
  for my $round (1 .. $rounds) {
    my ($pid, $port, $fh) = start_server("$ours/tlsserver", '-1', '-q', '-RH', '-l', 'x', '127.0.0.1', '0', $prog);
    push @{ $t{ours} }, download($port);
    stop_server($pid, $fh);
    if (-x '/usr/bin/stunnel4') {
      my $st = free_port_tls();
      my $stpid = start_on_port($st, '/usr/bin/stunnel4', stunnel_conf($st, $crt, $prog));
      push @{ $t{stunnel} }, $stpid ? download($st) : undef;
      stop_pid_tls($stpid) if $stpid;
    }
    if (-x '/usr/sbin/hitch') {
      my ($tp, $tport, $tfh) = start_server("$ours/tcpserver", '-1', '-q', '-RH', '-l', 'x', '127.0.0.1', '0', $prog);
      my $hp = free_port_tls();
      my $hpid = start_on_port($hp, '/usr/sbin/hitch', '--config', hitch_conf($hp, $tport, $crt));
      push @{ $t{hitch} }, $hpid ? download($hp) : undef;
      stop_pid_tls($hpid) if $hpid;
      stop_server($tp, $tfh);
    }
  }
  say_('');
  say_("### TLS relay: a ${tls_mib} MiB download through tlsclient (seconds, MiB/s)");
  say_('');
  say_('| server | seconds | MiB/s | tlsserver speed / its |');
  say_('|---|---|---|---|');
  my $o = median(grep { defined } @{ $t{ours} });
  for my $k (qw(ours stunnel hitch)) {
    next unless $t{$k};
    my $m = median(grep { defined } @{ $t{$k} });
    my $name = { ours => 'tlsserver', stunnel => 'stunnel4 exec mode', hitch => 'hitch -> tcpserver' }->{$k};
    say_("| $name | " . fmt($m, '%.2f') . ' | ' . ($m ? fmt($tls_mib / $m) : '-') . ' | ' . ratio($m, $o) . ' |');
  }
  say_('');
  say_('Targets: >= 1.0 against stunnel4, >= 1.5 against hitch.');
}

1;
