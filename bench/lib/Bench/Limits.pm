package Bench::Limits;
# The parts of tcpserver's per-client limits and of connections held
# open: the parent's CPU per connection and its memory with 10, 2,000 and
# 10,000 connections held (BENCH_HELD: the list after 10), the cost of a
# refusal, and a served client's rate while another floods.
use strict;
use warnings;
use POSIX ();
use Bench;
use Bench::Syscalls;
use Exporter 'import';

our @EXPORT = qw(bench_limits cpu_refused);

my $limit_conns = $ENV{BENCH_LIMIT_CONNS} || 20000;
my @held = (10, split /,/, ($ENV{BENCH_HELD} || '2000,10000'));
my $held_target = 1.25;

# The parent's CPU per short connection with `held` connections open, its
# memory after them, and (when $trace) its system calls during 2,000 more.
sub cpu_with_held {
  my ($prog, $held, $trace) = @_;
  my ($pid, $port, $fh) = start_server($prog, '-1', '-q', '-H', '-R', '-l', 'x', '-c', $held + 100, '-b', '1024',
                                       '127.0.0.1', '0', "$tools/holdchild");
  my $h = hold_open($port, $held);
  wait_children($pid, $held);
  my $c0 = cpu_seconds($pid);
  my $r = lg($port, '-h', '-c', '16', '-n', $limit_conns, '-e', '3');
  my $c1 = cpu_seconds($pid);
  my $mem = proc_memory($pid);
  my $sys = $trace ? syscalls_during($pid, sub { lg($port, '-h', '-c', '16', '-n', 2000, '-e', '3') }) : undef;
  close $_ for @$h;
  stop_server($pid, $fh);
  return { us => ($c1 - $c0) * 1e6 / ($r->{completed} || 1), cps => $r->{cps}, failed => ($r->{failed} // 0) + ($r->{unfinished} // 0),
           rss => $mem->{rss}, hwm => $mem->{hwm}, sys => $sys };
}

# The parent's CPU per refused connection (-C 1, the client at its limit:
# one connection held from 127.0.0.2, a flood from the same address), of
# SERVER (default tcpserver; tls.pl's tlsserver) with its EXTRA options.
sub cpu_refused {
  my ($trace, $server, @extra) = @_;
  $server //= 'tcpserver';
  my ($pid, $port, $fh) = start_server("$ours/$server", '-1', '-q', '-H', '-R', '-l', 'x', '-C', '1', '-c', '400', '-b', '1024',
                                       @extra, '127.0.0.1', '0', "$tools/holdchild");
  my $h = hold_open($port, 1, '127.0.0.2');
  wait_children($pid, 1);
  my $c0 = cpu_seconds($pid);
  my $r = lg($port, '-s', '127.0.0.2', '-c', '200', '-n', $limit_conns);
  my $c1 = cpu_seconds($pid);
  my $kids = children_of($pid);
  my $sys = $trace ? syscalls_during($pid, sub { lg($port, '-s', '127.0.0.2', '-c', '200', '-n', 2000) }) : undef;
  close $_ for @$h;
  stop_server($pid, $fh);
  return { us => ($c1 - $c0) * 1e6 / ($r->{completed} || 1), cps => $r->{cps}, kids => $kids, refused => $r->{completed}, sys => $sys };
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

sub held_part {
  my ($res) = @_;
  my $m = sub { my ($k, $f) = @_; median(map { $_->{$f} } @{ $res->{$k} || [] }) };
  my @more = @held[1 .. $#held];
  say_('');
  say_("### tcpserver parent CPU per connection with connections held open (`-q -H -R -l x -c HELD+100`, service `bench/holdchild`, $limit_conns short connections at concurrency 16, `loadgen -h`)");
  say_('');
  say_(join(' | ', '| server', (map { "us/conn, $_ held" } @held), (map { "ratio $_/10" } @more),
    "conn/s, $held[-1] held", (map { "parent VmRSS kB, $_ held" } @held), "VmHWM kB, $held[-1] held", 'failed |'));
  say_('| --- |' . (' ---: |' x (2 * @held + @more + 3)));
  for my $name ('ours', 'reference') {
    next unless $res->{"$name 10"};
    my $base = $m->("$name 10", 'us');
    my $failed = 0;
    $failed += $_->{failed} for map { @{ $res->{"$name $_"} } } @held;
    say_(join(' | ', "| $name", (map { fmt($m->("$name $_", 'us'), '%.1f') } @held),
      (map { ratio($m->("$name $_", 'us'), $base) } @more), fmt($m->("$name $held[-1]", 'cps')),
      (map { fmt($m->("$name $_", 'rss')) } @held), fmt($m->("$name $held[-1]", 'hwm')), "$failed |"));
  }
  my $q = $res->{"ours 10"} ? ratio($m->("ours $held[-1]", 'us'), $m->('ours 10', 'us')) : '-';
  say_('');
  say_("ours, $held[-1] held / 10 held: $q of the parent's CPU per connection (target: at most $held_target): " .
    ($q eq '-' ? 'no figure' : $q <= $held_target ? 'met' : 'NOT met'));
  syscalls_table_head("2,000 short connections with 10 or $held[-1] held, last round");
  for my $name ('ours', 'reference') {
    for my $n (10, $held[-1]) {
      my ($r) = grep { $_->{sys} } @{ $res->{"$name $n"} || [] };
      syscalls_line("$name, $n held", $r && $r->{sys}) if $res->{"$name $n"};
    }
  }
}

sub bench_limits {
  my %res;
  for my $round (1 .. $rounds) {
    for my $cfg (['ours', "$ours/tcpserver"], ['reference', "$ref/tcpserver"]) {
      next unless have($cfg->[1]);
      for my $held (@held) {
        my $trace = $round == $rounds && ($held == 10 || $held == $held[-1]);
        my $r = cpu_with_held($cfg->[1], $held, $trace);
        printf "# limits round %d %s held=%d us/conn=%.1f cps=%.0f rss_kb=%s failed=%d\n", $round, $cfg->[0], $held, $r->{us}, $r->{cps} // 0, $r->{rss} // '?', $r->{failed};
        push @{ $res{"$cfg->[0] $held"} }, $r;
      }
    }
    my $r = cpu_refused($round == $rounds);
    printf "# limits round %d refused us=%.1f children=%d refused=%d\n", $round, $r->{us}, $r->{kids}, $r->{refused} // 0;
    push @{ $res{refused} }, $r;
    for my $flood (0, 'paced', 'full') {
      my $f = served_rate($flood);
      printf "# limits round %d served flood=%s cps=%.0f failed=%d p99_us=%d max_us=%d\n", $round, $flood, $f->{cps} // 0, $f->{failed}, $f->{p99} // 0, $f->{max} // 0;
      push @{ $res{"served $flood"} }, $f;
    }
  }
  held_part(\%res);
  my $m = sub { my ($k, $f) = @_; median(map { $_->{$f} } @{ $res{$k} || [] }) };
  say_('');
  say_("### tcpserver -C 1: a client at its limit ($limit_conns refused connections at concurrency 200)");
  say_('');
  say_('| parent CPU us per refused connection (median) | refusals/s | children during the flood (1 held) |');
  say_('| ---: | ---: | ---: |');
  say_(sprintf '| %.1f | %s | %s |', $m->('refused', 'us'), fmt($m->('refused', 'cps')), join(',', map { $_->{kids} } @{ $res{refused} }));
  syscalls_table_head('2,000 refused connections, last round');
  my ($traced) = grep { $_->{sys} } @{ $res{refused} };
  syscalls_line('ours, refusals', $traced && $traced->{sys});
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

1;
