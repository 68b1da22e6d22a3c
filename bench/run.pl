#!/usr/bin/perl
# The benchmark driver of `make bench`: our programs against the reference
# (Debian's ucspi-tcp 0.88 in /usr/bin), interleaved A B A B so that noise
# falls on both, loopback only, every run bounded in count and time.
# Environment: UCSPI_BIN (our build, absolute), BENCH_BIN (the tools of
# bench/, default $UCSPI_BIN/bench), BENCH_ROUNDS (5), BENCH_CONNS (5000
# connections a run), BENCH_RSS_CONNS (10000), BENCH_OUT (report file,
# default bench/RESULTS.md), BENCH_ONLY (comma list of parts: conn, rules,
# rss, limits, proxy, ruleenv, tls; default all; tls: bench/tls.pl), BENCH_LIMIT_CONNS (20000:
# short connections a run of the limits part), BENCH_HELD (2000:
# connections held open), BENCH_RULEENV_CONNS (2000 connections a run
# with one rule variable, a quarter with 3,000, a fortieth with 30,000).  The sections of the parts not run are kept from the
# report file as it was.
use strict;
use warnings;
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(time);
use Cwd ();
use IO::Socket::INET;

our $ours = $ENV{UCSPI_BIN} || 'build';
our $tools = $ENV{BENCH_BIN} || "$ours/bench";
our $rounds = $ENV{BENCH_ROUNDS} || 5;
my $conns = $ENV{BENCH_CONNS} || 5000;
my $rss_conns = $ENV{BENCH_RSS_CONNS} || 10000;
my $out = $ENV{BENCH_OUT} || 'bench/RESULTS.md';
my %only = map { $_ => 1 } split /,/, ($ENV{BENCH_ONLY} || 'conn,rules,rss,limits,proxy,ruleenv,tls');
my $ruleenv_conns = $ENV{BENCH_RULEENV_CONNS} || 2000;
my $limit_conns = $ENV{BENCH_LIMIT_CONNS} || 20000;
my $held_n = $ENV{BENCH_HELD} || 2000;
my $ref = '/usr/bin';
our $work = "$tools/work";
our $child = "$tools/okchild";
my $run_seconds = 60;    # bound of one loadgen run
my @report;

mkdir $work;
-x "$tools/loadgen" or die "bench: tools missing in $tools: run make bench\n";
sub have { -x $_[0] }
sub say_ { my $l = join '', @_; print "$l\n"; push @report, $l }

sub median {
  my @v = sort { $a <=> $b } grep { defined } @_;
  return undef unless @v;
  return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}
sub ratio { defined $_[0] && defined $_[1] && $_[1] ? sprintf('%.2f', $_[0] / $_[1]) : '-' }
sub fmt { defined $_[0] ? sprintf($_[1] || '%.0f', $_[0]) : '-' }

# Start a server that prints its port on its first line (-1); returns
# (pid, port).
sub start_server {
  my @cmd = @_;
  my $pid = open(my $fh, '-|', @cmd) or die "bench: unable to run $cmd[0]: $!\n";
  my $port;
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    $port = <$fh>;
    alarm 0;
  };
  die "bench: $cmd[0] printed no port\n" unless defined $port && $port =~ /^(\d+)$/;
  return ($pid, $1, $fh);
}

sub stop_server {
  my ($pid, $fh) = @_;
  kill 'TERM', $pid;
  for (1 .. 50) { last if waitpid($pid, WNOHANG) == $pid; select undef, undef, undef, 0.1 }
  kill 'KILL', $pid;
  close $fh;
}

# CPU seconds (user + system) the process has used so far: the server's
# own cost, apart from its children's (which exec and exit the service).
sub cpu_seconds {
  open my $fh, '<', "/proc/$_[0]/stat" or return undef;
  my @f = split ' ', (split /\) /, scalar <$fh>, 2)[1];
  return ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

sub loadgen {
  my ($port, $c, $n, @extra) = @_;
  my $line = `timeout @{[$run_seconds + 10]} $tools/loadgen -c $c -n $n -t $run_seconds -e 3 @extra 127.0.0.1 $port`;
  my %r = $line =~ /(\w+)=([\d.]+)/g;
  return \%r;
}

# ---- connections per second --------------------------------------------

sub server_configs {
  my ($c, $cdb) = @_;
  my @b = $c > 16 ? ('-b', '1024') : ();
  my @common = ('-1', '-q', '-H', '-R', '-l', 'x', '-c', '200', @b);
  my @cfg;
  push @cfg, ['ours', "$ours/tcpserver", @common, '127.0.0.1', '0', $child] if have("$ours/tcpserver");
  push @cfg, ['reference', "$ref/tcpserver", @common, '127.0.0.1', '0', $child] if have("$ref/tcpserver");
  if ($cdb && $c == 16) {
    push @cfg, ['ours -x', "$ours/tcpserver", @common, '-x', $cdb, '127.0.0.1', '0', $child] if have("$ours/tcpserver");
    push @cfg, ['reference -x', "$ref/tcpserver", @common, '-x', $cdb, '127.0.0.1', '0', $child] if have("$ref/tcpserver");
  }
  push @cfg, ['limit fork', "$tools/bareloop", 'fork', $child];
  push @cfg, ['limit vfork', "$tools/bareloop", 'vfork', $child];
  return @cfg;
}

sub bench_connections {
  my ($cdb) = @_;
  for my $c (16, 64) {
    my @cfg = server_configs($c, $cdb);
    my %res;
    for my $round (1 .. $rounds) {
      for my $cfg (@cfg) {
        my ($name, @cmd) = @$cfg;
        my ($pid, $port, $fh) = start_server(@cmd);
        my $r = loadgen($port, $c, $conns);
        my $cpu = cpu_seconds($pid);
        $r->{cpu_us} = $cpu * 1e6 / $r->{completed} if defined $cpu && $r->{completed};
        stop_server($pid, $fh);
        printf "# c=%d round %d %-13s %s\n", $c, $round, $name, join ' ', map { "$_=" . ($r->{$_} // '?') } qw(completed failed cps p50_us p99_us max_us cpu_us);
        push @{ $res{$name} }, $r;
      }
    }
    say_('');
    say_("### Concurrency $c" . ($c > 16 ? ' (`-b 1024`; the limit loops always use 1024)' : ''));
    say_('');
    say_('| server | conn/s (median) | vs reference | vs limit vfork | p50 ms | p99 ms | max ms | failed | server CPU us/conn | CPU vs reference |');
    say_('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    my %med;
    for my $cfg (@cfg) {
      my $name = $cfg->[0];
      my @r = @{ $res{$name} };
      $med{$name} = {
        cps => median(map { $_->{cps} } @r),
        p50 => median(map { $_->{p50_us} } @r),
        p99 => median(map { $_->{p99_us} } @r),
        max => median(map { $_->{max_us} } @r),
        cpu => median(map { $_->{cpu_us} } @r),
        failed => eval { my $s = 0; $s += ($_->{failed} // 0) + ($_->{unfinished} // 0) for @r; $s },
      };
    }
    for my $cfg (@cfg) {
      my $name = $cfg->[0];
      my $m = $med{$name};
      my $base = $name =~ /-x$/ ? 'reference -x' : 'reference';
      say_(sprintf '| %s | %s | %s | %s | %s | %s | %s | %d | %s | %s |', $name, fmt($m->{cps}),
        ratio($m->{cps}, $med{$base} && $med{$base}{cps}),
        ratio($m->{cps}, $med{'limit vfork'}{cps}),
        fmt(defined $m->{p50} ? $m->{p50} / 1000 : undef, '%.2f'),
        fmt(defined $m->{p99} ? $m->{p99} / 1000 : undef, '%.2f'),
        fmt(defined $m->{max} ? $m->{max} / 1000 : undef, '%.2f'), $m->{failed},
        fmt($m->{cpu}, '%.1f'), ratio($m->{cpu}, $med{$base} && $med{$base}{cpu}));
    }
    if ($med{'ours -x'} && $med{ours}) {
      say_('');
      say_(sprintf 'ours with `-x` (10^6-line cdb) / ours without: %s', ratio($med{'ours -x'}{cps}, $med{ours}{cps}));
    }
    if ($med{'reference -x'} && $med{reference}) {
      say_(sprintf 'reference with `-x` / reference without: %s', ratio($med{'reference -x'}{cps}, $med{reference}{cps}));
    }
  }
}

# ---- tcprules and tcprulescheck ------------------------------------------

# Run a command under /usr/bin/time -v; returns (seconds, peak RSS kB, exit).
sub timed {
  my ($in, @cmd) = @_;
  my $tv = "$work/time.out";
  my $t0 = time;
  system('/usr/bin/time', '-v', '-o', $tv, 'sh', '-c', 'exec "$@" < "$0" > /dev/null', $in, @cmd);
  my $elapsed = time - $t0;
  my $exit = $? >> 8;
  open my $fh, '<', $tv or return ($elapsed, undef, $exit);
  my ($rss) = join('', <$fh>) =~ /Maximum resident set size \(kbytes\): (\d+)/;
  return ($elapsed, $rss, $exit);
}

sub dump_cdb { my $d = `cdb -d $_[0] 2>/dev/null`; return $? ? undef : $d }

sub bench_rules {
  my @sizes = (100000, 1000000);
  my $cdb_tool = -x '/usr/bin/cdb' ? '/usr/bin/cdb' : undef;
  my %files;
  for my $n (@sizes) {
    my $txt = "$work/rules-$n.txt";
    system("$tools/genrules $n > $txt") == 0 or die "bench: genrules failed\n";
    $files{$n} = $txt;
  }
  say_('');
  say_('### tcprules (generated rules, every 0.88 address form, assignments)');
  say_('');
  say_('| lines | program | seconds (median) | lines/s | peak RSS MB | vs reference |');
  say_('| ---: | --- | ---: | ---: | ---: | ---: |');
  my $big_cdb;
  for my $n (@sizes) {
    my $txt = $files{$n};
    my @progs;
    push @progs, ['reference', "$ref/tcprules", "$work/ref-$n.cdb"] if have("$ref/tcprules");
    push @progs, ['ours', "$ours/tcprules", "$work/ours-$n.cdb"] if have("$ours/tcprules");
    my %t;
    for my $round (1 .. $rounds) {
      for my $p (@progs) {
        my ($name, $prog, $cdb) = @$p;
        my ($s, $rss, $exit) = timed($txt, $prog, $cdb, "$cdb.tmp");
        die "bench: $prog failed on $txt (exit $exit)\n" if $exit;
        push @{ $t{$name}{s} }, $s;
        push @{ $t{$name}{rss} }, $rss;
      }
      # tinycdb's own cdb -c on exactly the same records, as a yardstick
      if ($cdb_tool && $progs[0]) {
        my $dumpf = "$work/rules-$n.cdbmake";
        if (!-e $dumpf) {
          system("cdb -d $progs[0][2] > $dumpf") == 0 or die "bench: cdb -d failed\n";
        }
        my ($s, $rss) = timed($dumpf, $cdb_tool, '-c', "$work/cdbc-$n.cdb");
        push @{ $t{'cdb -c'}{s} }, $s;
        push @{ $t{'cdb -c'}{rss} }, $rss;
      }
    }
    my $ref_s = $t{reference} ? median(@{ $t{reference}{s} }) : undef;
    for my $name (grep { $t{$_} } 'reference', 'ours', 'cdb -c') {
      my $s = median(@{ $t{$name}{s} });
      say_(sprintf '| %d | %s | %.3f | %s | %.1f | %s |', $n, $name, $s, fmt($n / $s),
        median(@{ $t{$name}{rss} }) / 1024, $ref_s ? ratio($ref_s, $s) . 'x speed' : '-');
    }
    if ($t{ours} && $t{reference}) {
      my ($a, $b) = (dump_cdb("$work/ref-$n.cdb"), dump_cdb("$work/ours-$n.cdb"));
      say_("| $n | (ours and reference cdb records " . (defined $a && defined $b && $a eq $b ? 'identical' : 'DIFFER') . ') | | | | |');
    }
    $big_cdb = $progs[0][2] if @progs;
  }
  return $big_cdb;
}

sub bench_rulescheck {
  my ($cdb) = @_;
  my @progs;
  push @progs, ['reference', "$ref/tcprulescheck"] if have("$ref/tcprulescheck");
  push @progs, ['ours', "$ours/tcprulescheck"] if have("$ours/tcprulescheck");
  return unless @progs && $cdb;
  my $count = 500;
  my %t;
  local $ENV{TCPREMOTEIP} = '10.20.30.40';
  local $ENV{TCPREMOTEHOST} = 'mail.example.org';
  for my $round (1 .. $rounds) {
    for my $p (@progs) {
      my $us = `$tools/spawnloop $count $p->[1] $cdb`;
      push @{ $t{ $p->[0] }{us} }, $us + 0;
    }
  }
  for my $p (@progs) {
    my (undef, $rss) = timed('/dev/null', $p->[1], $cdb);
    $t{ $p->[0] }{rss} = $rss;
  }
  say_('');
  say_("### tcprulescheck on the 10^6-line cdb ($count invocations a round, one lookup each)");
  say_('');
  say_('| program | us per invocation (median) | peak RSS MB | time vs reference |');
  say_('| --- | ---: | ---: | ---: |');
  for my $p (@progs) {
    my $m = median(@{ $t{ $p->[0] }{us} });
    say_(sprintf '| %s | %.0f | %.1f | %s |', $p->[0], $m, ($t{ $p->[0] }{rss} // 0) / 1024,
      $t{reference} ? ratio($m, median(@{ $t{reference}{us} })) : '-');
  }
}

# ---- tcpserver parent RSS ------------------------------------------------

sub bench_rss {
  my @cfg;
  push @cfg, ['reference', "$ref/tcpserver"] if have("$ref/tcpserver");
  push @cfg, ['ours', "$ours/tcpserver"] if have("$ours/tcpserver");
  return unless @cfg;
  say_('');
  say_("### tcpserver parent after $rss_conns connections (`-q -H -R -l x -c 200`, concurrency 16)");
  say_('');
  say_('| server | VmRSS kB | VmHWM kB | failed |');
  say_('| --- | ---: | ---: | ---: |');
  for my $cfg (@cfg) {
    my ($name, $prog) = @$cfg;
    my ($pid, $port, $fh) = start_server($prog, '-1', '-q', '-H', '-R', '-l', 'x', '-c', '200', '127.0.0.1', '0', $child);
    my $r = loadgen($port, 16, $rss_conns);
    open my $st, '<', "/proc/$pid/status" or die;
    my $s = join '', <$st>;
    close $st;
    stop_server($pid, $fh);
    my ($rss) = $s =~ /VmRSS:\s+(\d+)/;
    my ($hwm) = $s =~ /VmHWM:\s+(\d+)/;
    say_(sprintf '| %s | %d | %d | %d |', $name, $rss, $hwm, ($r->{failed} // 0) + ($r->{unfinished} // 0));
  }
}

# ---- tcpserver's per-client limits ----------------------------------------

use IO::Socket::IP;
use Socket qw(SOCK_STREAM);

# n connections from src held open to a service that waits for EOF.
sub hold_open {
  my ($port, $n, $src) = @_;
  my @h;
  for (1 .. $n) {
    my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Type => SOCK_STREAM,
      Timeout => 5, $src ? (LocalHost => $src) : ()) or die "bench: unable to hold connection $_: $!\n";
    push @h, $c;
  }
  return \@h;
}

sub children_of {
  my ($ppid) = @_;
  opendir my $d, '/proc' or return 0;
  my $n = 0;
  for my $p (grep { /^\d+$/ } readdir $d) {
    open my $fh, '<', "/proc/$p/stat" or next;
    my $st = <$fh>;
    $n++ if defined $st && $st =~ /\) \S (\d+) / && $1 == $ppid;
  }
  return $n;
}

sub wait_children {
  my ($pid, $n) = @_;
  for (1 .. 500) { return 1 if children_of($pid) == $n; select undef, undef, undef, 0.02 }
  return 0;
}

sub lg {
  my ($port, @args) = @_;
  my $line = `timeout @{[$run_seconds + 10]} $tools/loadgen -t $run_seconds @args 127.0.0.1 $port`;
  my %r = $line =~ /(\w+)=([\d.]+)/g;
  return \%r;
}

# The parent's CPU per short connection with `held` connections open.
sub cpu_with_held {
  my ($prog, $held) = @_;
  my ($pid, $port, $fh) = start_server($prog, '-1', '-q', '-H', '-R', '-l', 'x', '-c', $held + 100, '-b', '1024',
                                       '127.0.0.1', '0', "$tools/holdchild");
  my $h = hold_open($port, $held);
  wait_children($pid, $held);
  my $c0 = cpu_seconds($pid);
  my $r = lg($port, '-h', '-c', '16', '-n', $limit_conns, '-e', '3');
  my $c1 = cpu_seconds($pid);
  close $_ for @$h;
  stop_server($pid, $fh);
  return { us => ($c1 - $c0) * 1e6 / ($r->{completed} || 1), cps => $r->{cps}, failed => ($r->{failed} // 0) + ($r->{unfinished} // 0) };
}

# The parent's CPU per refused connection (-C 1, the client at its limit).
sub cpu_refused {
  my ($pid, $port, $fh) = start_server("$ours/tcpserver", '-1', '-q', '-H', '-R', '-l', 'x', '-C', '1', '-c', '400', '-b', '1024',
                                       '127.0.0.1', '0', "$tools/holdchild");
  my $h = hold_open($port, 1, '127.0.0.2');
  wait_children($pid, 1);
  my $c0 = cpu_seconds($pid);
  my $r = lg($port, '-s', '127.0.0.2', '-c', '200', '-n', $limit_conns);
  my $c1 = cpu_seconds($pid);
  my $kids = children_of($pid);
  close $_ for @$h;
  stop_server($pid, $fh);
  return { us => ($c1 - $c0) * 1e6 / ($r->{completed} || 1), cps => $r->{cps}, kids => $kids, refused => $r->{completed} };
}

# A served client's rate, alone and while another address floods: at a
# fixed 20,000 connections a second ('paced'), or as fast as it can at
# concurrency 200 ('full': a flooder that takes a core of the two).
my $paced_rate = 20000;
sub served_rate {
  my ($flood) = @_;
  # -C 8, so that the served client's ended children not reaped yet (it
  # reconnects within microseconds) do not refuse it.
  my ($pid, $port, $fh) = start_server("$ours/tcpserver", '-1', '-q', '-H', '-R', '-l', 'x', '-C', '8', '-c', '400', '-b', '1024',
                                       '127.0.0.1', '0', "$tools/holdchild");
  my $h = hold_open($port, 8, '127.0.0.2');
  wait_children($pid, 8);
  my $fpid;
  if ($flood) {
    $fpid = fork // die "bench: fork: $!\n";
    if (!$fpid) {
      open STDOUT, '>', '/dev/null';
      my @pace = $flood eq 'paced' ? ('-r', $paced_rate) : ();
      { exec { "$tools/loadgen" } "$tools/loadgen", '-s', '127.0.0.2', '-c', '200', @pace, '-n', '10000000', '-t', $run_seconds, '127.0.0.1', $port }
      POSIX::_exit(127);
    }
    select undef, undef, undef, 0.3;
  }
  my $c0 = cpu_seconds($pid);
  my $r = lg($port, '-h', '-s', '127.0.0.3', '-c', '1', '-n', int($limit_conns / 10), '-e', '3');
  my $c1 = cpu_seconds($pid);
  if ($fpid) { kill 'TERM', $fpid; waitpid($fpid, 0) }
  close $_ for @$h;
  stop_server($pid, $fh);
  return { cps => $r->{cps}, failed => ($r->{failed} // 0) + ($r->{unfinished} // 0), p99 => $r->{p99_us}, max => $r->{max_us},
           cpu => $c1 - $c0 };
}

sub bench_limits {
  my (%res, @order);
  for my $round (1 .. $rounds) {
    for my $cfg (['ours', "$ours/tcpserver"], ['reference', "$ref/tcpserver"]) {
      next unless have($cfg->[1]);
      for my $held (10, $held_n) {
        my $r = cpu_with_held($cfg->[1], $held);
        printf "# limits round %d %s held=%d us/conn=%.1f cps=%.0f failed=%d\n", $round, $cfg->[0], $held, $r->{us}, $r->{cps} // 0, $r->{failed};
        push @{ $res{"$cfg->[0] $held"} }, $r;
      }
    }
    my $r = cpu_refused();
    printf "# limits round %d refused us=%.1f children=%d refused=%d\n", $round, $r->{us}, $r->{kids}, $r->{refused} // 0;
    push @{ $res{refused} }, $r;
    for my $flood (0, 'paced', 'full') {
      my $f = served_rate($flood);
      printf "# limits round %d served flood=%s cps=%.0f failed=%d p99_us=%d max_us=%d\n", $round, $flood, $f->{cps} // 0, $f->{failed}, $f->{p99} // 0, $f->{max} // 0;
      push @{ $res{"served $flood"} }, $f;
    }
  }
  my $m = sub { my ($k, $f) = @_; median(map { $_->{$f} } @{ $res{$k} || [] }) };
  say_('');
  say_("### tcpserver parent CPU per connection with connections held open (`-q -H -R -l x -c HELD+100`, service `bench/holdchild`, $limit_conns short connections at concurrency 16, `loadgen -h`)");
  say_('');
  say_("| server | us/conn, 10 held | us/conn, $held_n held | ratio $held_n/10 | conn/s, $held_n held | failed |");
  say_('| --- | ---: | ---: | ---: | ---: | ---: |');
  for my $name ('ours', 'reference') {
    next unless $res{"$name 10"};
    my ($a, $b) = ($m->("$name 10", 'us'), $m->("$name $held_n", 'us'));
    my $failed = 0;
    $failed += $_->{failed} for @{ $res{"$name 10"} }, @{ $res{"$name $held_n"} };
    say_(sprintf '| %s | %.1f | %.1f | %s | %s | %d |', $name, $a, $b, ratio($b, $a), fmt($m->("$name $held_n", 'cps')), $failed);
  }
  say_('');
  say_("### tcpserver -C 1: a client at its limit ($limit_conns refused connections at concurrency 200)");
  say_('');
  say_('| parent CPU us per refused connection (median) | refusals/s | children during the flood (1 held) |');
  say_('| ---: | ---: | ---: |');
  say_(sprintf '| %.1f | %s | %s |', $m->('refused', 'us'), fmt($m->('refused', 'cps')), join(',', map { $_->{kids} } @{ $res{refused} }));
  say_('');
  say_("### A served client (127.0.0.3, `-C 8`, one connection at a time) while 127.0.0.2, at its limit, floods refused connections (concurrency 200: paced at $paced_rate/s, or full speed)");
  say_('');
  say_('| flood | served conn/s (median) | vs without | p99 ms | max ms | refused or failed |');
  say_('| --- | ---: | ---: | ---: | ---: | ---: |');
  for my $flood (0, 'paced', 'full') {
    my $failed = 0;
    $failed += $_->{failed} for @{ $res{"served $flood"} };
    my $what = $flood eq 'paced' ? "$paced_rate/s" : $flood ? 'full speed' : 'none';
    say_(sprintf '| %s | %s | %s | %.2f | %.2f | %d |', $what, fmt($m->("served $flood", 'cps')),
      ratio($m->("served $flood", 'cps'), $m->('served 0', 'cps')), ($m->("served $flood", 'p99') // 0) / 1000,
      ($m->("served $flood", 'max') // 0) / 1000, $failed);
  }
}

# ---- behind a balancer: PROXY v2 headers against plain connections -----

# The same server and the same rules, but for one variable: the rule of
# the balancer's address (127.0.0.1) sets PROXYPROTOCOL="v2" and loadgen
# -p 2 starts each connection with a v2 header for 192.0.2.1, whose rule
# is then looked up too; the plain run connects directly.
sub bench_proxy {
  return unless have("$ours/tcpserver") && have("$ours/tcprules");
  my $c = 16;
  my %rules = (
    plain => "127.0.0.1:allow\n192.0.2.:allow,CLIENT=\"balanced\"\n:allow\n",
    'PROXY v2' => "127.0.0.1:allow,PROXYPROTOCOL=\"v2\"\n192.0.2.:allow,CLIENT=\"balanced\"\n:allow\n",
  );
  my %cdb;
  for my $name (sort keys %rules) {
    (my $file = "$work/proxy-$name") =~ s/ /-/g;
    open my $fh, '|-', "$ours/tcprules", "$file.cdb", "$file.tmp" or die "bench: tcprules: $!\n";
    print $fh $rules{$name};
    close $fh or die "bench: tcprules failed\n";
    $cdb{$name} = "$file.cdb";
  }
  my @cfg = (['plain', []], ['PROXY v2', ['-p', '2']]);
  my %res;
  for my $round (1 .. $rounds) {
    for my $cfg (@cfg) {
      my ($name, $extra) = @$cfg;
      my ($pid, $port, $fh) = start_server("$ours/tcpserver", '-1', '-q', '-H', '-R', '-l', 'x', '-c', '200',
        '-x', $cdb{$name}, '127.0.0.1', '0', $child);
      my $r = loadgen($port, $c, $conns, @$extra);
      my $cpu = cpu_seconds($pid);
      $r->{cpu_us} = $cpu * 1e6 / $r->{completed} if defined $cpu && $r->{completed};
      stop_server($pid, $fh);
      printf "# proxy round %d %-9s %s\n", $round, $name, join ' ', map { "$_=" . ($r->{$_} // '?') } qw(completed failed cps p50_us p99_us cpu_us);
      push @{ $res{$name} }, $r;
    }
  }
  say_('');
  say_("### Behind a balancer: PROXY v2 header against plain connections (ours, concurrency $c)");
  say_('');
  say_('Same server (`tcpserver -1 -q -H -R -l x -c 200 -x rules.cdb 127.0.0.1 0 okchild`), same rules but for');
  say_('`PROXYPROTOCOL="v2"` on the balancer\'s rule; `loadgen -p 2` sends a 28-byte v2 header for 192.0.2.1');
  say_('at the start of each connection (its rule `192.0.2.:allow,...` is then looked up as well).');
  say_('');
  say_('| connections | conn/s (median) | vs plain | p50 ms | p99 ms | failed | server CPU us/conn | CPU vs plain |');
  say_('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  my %med;
  for my $cfg (@cfg) {
    my @r = @{ $res{ $cfg->[0] } };
    $med{ $cfg->[0] } = {
      cps => median(map { $_->{cps} } @r),
      p50 => median(map { $_->{p50_us} } @r),
      p99 => median(map { $_->{p99_us} } @r),
      cpu => median(map { $_->{cpu_us} } @r),
      failed => eval { my $s = 0; $s += ($_->{failed} // 0) + ($_->{unfinished} // 0) for @r; $s },
    };
  }
  for my $cfg (@cfg) {
    my $m = $med{ $cfg->[0] };
    say_(sprintf '| %s | %s | %s | %s | %s | %d | %s | %s |', $cfg->[0], fmt($m->{cps}),
      ratio($m->{cps}, $med{plain}{cps}),
      fmt(defined $m->{p50} ? $m->{p50} / 1000 : undef, '%.2f'),
      fmt(defined $m->{p99} ? $m->{p99} / 1000 : undef, '%.2f'), $m->{failed},
      fmt($m->{cpu}, '%.1f'), ratio($m->{cpu}, $med{plain}{cpu}));
  }
  my $q = ratio($med{'PROXY v2'}{cps}, $med{plain}{cps});
  say_('');
  say_(sprintf 'PROXY v2 / plain: %s of the connection rate (target: at least 0.90, i.e. at most 10%% slower): %s', $q,
    $q eq '-' ? 'no figure' : $q >= 0.90 ? 'met' : 'NOT met');
}

# ---- tcpserver with big rule environments --------------------------------

# A rules file giving 127.0.0.1 N variables of about 100 bytes each
# (NAME=VALUE), the rest denied; compiled with our tcprules.
sub ruleenv_cdb {
  my ($n) = @_;
  my $txt = "$work/ruleenv-$n.txt";
  open my $fh, '>', $txt or die "bench: $txt: $!\n";
  print $fh '127.0.0.1:allow';
  for my $i (0 .. $n - 1) {
    my $name = sprintf 'V%05d', $i;
    print $fh ",$name=\"", 'x' x (100 - length($name) - 1), '"';
  }
  print $fh "\n:deny\n";
  close $fh or die "bench: $txt: $!\n";
  my $cdb = "$work/ruleenv-$n.cdb";
  system("$ours/tcprules $cdb $cdb.tmp < $txt") == 0 or die "bench: tcprules failed on $txt\n";
  return $cdb;
}

# 30,000 variables of 100 bytes are 3 MB of environment, more than the
# 2 MB that execve takes with the default 8 MB stack limit (ARG_MAX is a
# quarter of it): every server's exec would fail with E2BIG.  The servers
# run with a 32 MB stack limit, which their children inherit.
my $ruleenv_stack_kb = 32768;
sub with_big_stack { return ('sh', '-c', "ulimit -s $ruleenv_stack_kb && exec \"\$@\"", 'sh', @_) }

# How many of the rule's variables the program sees (a check that the
# figures measure what they claim).
sub ruleenv_seen {
  my ($prog, $cdb) = @_;
  my ($pid, $port, $fh) = start_server(with_big_stack($prog, '-1', '-q', '-H', '-R', '-l', 'x', '-x', $cdb,
    '127.0.0.1', '0', 'sh', '-c', 'env | grep -c "^V[0-9]"'));
  my $got = '';
  if (my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 10)) {
    local $SIG{ALRM} = sub { die "timeout\n" };
    eval { alarm 10; local $/; $got = <$c> // ''; alarm 0 };
    close $c;
  }
  stop_server($pid, $fh);
  chomp $got;
  return $got =~ /^\d+$/ ? $got : '-';
}

sub bench_ruleenv {
  my @sizes = (1, 3000, 30000);
  my %cdb = map { $_ => ruleenv_cdb($_) } @sizes;
  # Fewer connections where each costs more (the reference needs about a
  # second each with 30,000 variables), at least two per client slot.
  my %count = (1 => $ruleenv_conns, 3000 => int($ruleenv_conns / 4), 30000 => int($ruleenv_conns / 40));
  $_ < 32 and $_ = 32 for values %count;
  my @cfg;
  for my $n (@sizes) {
    push @cfg, ["ours $n", $n, "$ours/tcpserver"] if have("$ours/tcpserver");
    push @cfg, ["reference $n", $n, "$ref/tcpserver"] if have("$ref/tcpserver");
  }
  return unless @cfg;
  my %seen = map { $_->[0] => ruleenv_seen($_->[2], $cdb{ $_->[1] }) } @cfg;
  my %res;
  for my $round (1 .. $rounds) {
    for my $cfg (@cfg) {
      my ($name, $n, $prog) = @$cfg;
      my ($pid, $port, $fh) = start_server(with_big_stack($prog, '-1', '-q', '-H', '-R', '-l', 'x', '-c', '200',
        '-x', $cdb{$n}, '127.0.0.1', '0', $child));
      my $r = loadgen($port, 16, $count{$n});
      my $cpu = cpu_seconds($pid);
      $r->{cpu_us} = $cpu * 1e6 / $r->{completed} if defined $cpu && $r->{completed};
      # loadgen rounds cps to an integer: 2/s would be too coarse.
      $r->{cps} = $r->{completed} / $r->{seconds} if $r->{completed} && $r->{seconds};
      stop_server($pid, $fh);
      printf "# ruleenv round %d %-16s %s\n", $round, $name, join ' ', map { "$_=" . ($r->{$_} // '?') } qw(completed failed cps cpu_us);
      push @{ $res{$name} }, $r;
    }
  }
  my %med;
  for my $cfg (@cfg) {
    my @r = @{ $res{ $cfg->[0] } };
    $med{ $cfg->[0] } = {
      cps => median(map { $_->{cps} } @r),
      cpu => median(map { $_->{cpu_us} } @r),
      failed => eval { my $s = 0; $s += ($_->{failed} // 0) + ($_->{unfinished} // 0) for @r; $s },
    };
  }
  say_('');
  say_("### tcpserver rule variables (one rule with 1, 3,000 or 30,000 variables of 100 bytes, `-x`, concurrency 16, $count{1}, $count{3000} and $count{30000} connections a run)");
  say_('');
  say_("Servers: `tcpserver -1 -q -H -R -l x -c 200 -x ruleenv-N.cdb 127.0.0.1 0 okchild` with a ${ruleenv_stack_kb} kB stack limit (3 MB of environment is more than execve takes under the default 8 MB); ours sets the variables in the parent (fast path), the reference in the child.");
  say_('');
  say_('| server | variables seen by the program | conn/s (median) | us/conn (from conn/s) | parent CPU us/conn | failed |');
  say_('| --- | ---: | ---: | ---: | ---: | ---: |');
  for my $cfg (@cfg) {
    my $m = $med{ $cfg->[0] };
    say_(sprintf '| %s | %s | %s | %s | %s | %d |', $cfg->[0], $seen{ $cfg->[0] }, fmt($m->{cps}, $m->{cps} && $m->{cps} < 100 ? '%.1f' : '%.0f'),
      fmt($m->{cps} ? 1e6 / $m->{cps} : undef), fmt($m->{cpu}, '%.1f'), $m->{failed});
  }
  # Linear cost: what 30,000 variables add over one variable should be
  # about 10 times what 3,000 add (100 times would be quadratic).
  say_('');
  say_('| server | measure | 3,000 vars: added us/conn | 30,000 vars: added us/conn | 30k / 3k (10 = linear) | ns per variable, 3k / 30k |');
  say_('| --- | --- | ---: | ---: | ---: | ---: |');
  for my $who ('ours', 'reference') {
    next unless $med{"$who 1"} && $med{"$who 30000"};
    my @measures = (['time per connection', sub { $_[0]{cps} ? 1e6 / $_[0]{cps} : undef }]);
    push @measures, ['parent CPU', sub { $_[0]{cpu} }] if $who eq 'ours';
    for my $ms (@measures) {
      my ($what, $get) = @$ms;
      my ($base, $a, $b) = map { $get->($med{"$who $_"}) } @sizes;
      next unless defined $base && defined $a && defined $b;
      my ($da, $db) = ($a - $base, $b - $base);
      say_(sprintf '| %s | %s | %.1f | %.1f | %s | %.1f / %.1f |', $who, $what, $da, $db,
        ratio($db, $da), $da * 1000 / 3000, $db * 1000 / 30000);
    }
  }
}

# ---- main ------------------------------------------------------------------

# The headings of each part's sections, to keep those of parts not run.
my %part_heading = (
  rules => qr/^### tcprules/,
  conn => qr/^### Concurrency/,
  rss => qr/^### tcpserver parent after/,
  limits => qr/^### (?:tcpserver parent CPU|tcpserver -C 1:|A served client)/,
  proxy => qr/^### Behind a balancer/,
  ruleenv => qr/^### tcpserver rule variables/,
  tls => qr/^### TLS/,
);
# A hand-written reading of the figures, from a line "## Reading" on, is
# kept across runs (to be checked against the new figures).
# The sections of the parts not run this time are kept as they were,
# with the date of the run that wrote them.
my $reading = '';
my @kept;
my $earlier = "from the previous report";
if (open my $old, '<', $out) {
  local $/;
  my $text = <$old>;
  $reading = $1 if $text =~ s/^(## Reading\n.*)\z//ms;
  my @sections = split /^(?=### )/m, $text;
  if (@sections && $sections[0] !~ /^### /) {
    my $head = shift @sections;
    if ($head =~ /^Kept sections: (.*)$/m) { $earlier = $1 }
    elsif ($head =~ /^Run by `make bench` on ([^,]+), [^;]*/m) { $earlier = "from the previous report (headed: the run of $1)" }
  }
  for my $section (@sections) {
    my ($part) = grep { $section =~ $part_heading{$_} } keys %part_heading;
    push @kept, $section if $part && !$only{$part};
  }
}
my $date = strftime('%Y-%m-%d %H:%M', localtime);
my $uname = `uname -srm`; chomp $uname;
my $cpus = `nproc`; chomp $cpus;
say_('# Benchmark results');
say_('');
say_("Run by `make bench` on $date, $uname, $cpus CPUs; $rounds interleaved rounds, medians.");
# Our build as a path inside the source tree when it is one, so that the
# report does not name the machine's directories.
(my $ours_shown = $ours) =~ s{^\Q${\ Cwd::getcwd()}\E/}{};
say_("Ours: `$ours_shown`; reference: Debian's ucspi-tcp 0.88 in /usr/bin; limit: `bench/bareloop` (accept, then fork or vfork and exec, nothing else).");
say_("Service: `bench/okchild` (static, writes \"ok\\n\"). Client: `bench/loadgen -c C -n $conns -t $run_seconds -e 3 127.0.0.1 PORT` (connect to EOF).");
say_("Servers: `tcpserver -1 -q -H -R -l x -c 200 [-b 1024] [-x rules.cdb] 127.0.0.1 0 okchild`.");
my @not_run = grep { !$only{$_} } qw(rules conn rss limits proxy ruleenv tls);
say_("Parts run: " . join(', ', grep { $only{$_} } qw(rules conn rss limits proxy ruleenv tls)) . '.') if @not_run && @kept;
say_("Kept sections: $earlier") if @not_run && @kept;
say_('Not built yet: ' . join(', ', grep { !have("$ours/$_") } qw(tcpserver tcprules tcprulescheck))) if grep { !have("$ours/$_") } qw(tcpserver tcprules tcprulescheck);
my $cdb;
if ($only{rules}) {
  $cdb = bench_rules();
  bench_rulescheck($cdb);
}
if ($only{conn}) {
  if (!$cdb && -e "$work/ref-1000000.cdb") { $cdb = "$work/ref-1000000.cdb" }
  if (!$cdb && have("$ref/tcprules")) {
    system("$tools/genrules 1000000 | $ref/tcprules $work/ref-1000000.cdb $work/ref-1000000.tmp") == 0 and $cdb = "$work/ref-1000000.cdb";
  }
  bench_connections($cdb);
}
bench_rss() if $only{rss};
bench_limits() if $only{limits};
bench_proxy() if $only{proxy};
bench_ruleenv() if $only{ruleenv};
if ($only{tls}) {
  require Cwd;
  my $here = Cwd::abs_path(__FILE__) =~ s{/[^/]*$}{}r;
  do "$here/tls.pl" or die "bench: bench/tls.pl: " . ($@ || $!) . "\n";
  bench_tls();
}
open my $fh, '>', $out or die "bench: unable to write $out: $!\n";
print $fh "$_\n" for @report;
if (@kept) {
  print $fh "\n";
  s/\n*\z/\n\n/ for @kept;
  print $fh @kept;
}
print $fh ($kept[0] ? '' : "\n"), $reading if $reading;
close $fh;
print "# written to $out\n";
