#!/usr/bin/perl
# The benchmark driver of `make bench`: our programs against the reference
# (Debian's ucspi-tcp 0.88 in /usr/bin), interleaved A B A B so that noise
# falls on both, loopback only, every run bounded in count and time.
# Environment: UCSPI_BIN (our build, absolute), BENCH_BIN (the tools of
# bench/, default $UCSPI_BIN/bench), BENCH_ROUNDS (5), BENCH_CONNS (5000
# connections a run), BENCH_RSS_CONNS (10000), BENCH_OUT (report file,
# default bench/RESULTS.md), BENCH_ONLY (comma list of parts: conn, rules,
# rss, ruleenv; default all), BENCH_RULEENV_CONNS (2000 connections a run
# with one variable, a quarter with 3,000, a fortieth with 30,000).  With BENCH_ONLY,
# the sections of the parts not run are kept from the old report.
use strict;
use warnings;
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(time);
use IO::Socket::INET;

my $ours = $ENV{UCSPI_BIN} || 'build';
my $tools = $ENV{BENCH_BIN} || "$ours/bench";
my $rounds = $ENV{BENCH_ROUNDS} || 5;
my $conns = $ENV{BENCH_CONNS} || 5000;
my $rss_conns = $ENV{BENCH_RSS_CONNS} || 10000;
my $out = $ENV{BENCH_OUT} || 'bench/RESULTS.md';
my @parts = qw(rules conn rss ruleenv);
my %only = map { $_ => 1 } split /,/, ($ENV{BENCH_ONLY} || join ',', @parts);
my $ruleenv_conns = $ENV{BENCH_RULEENV_CONNS} || 2000;
my $ref = '/usr/bin';
my $work = "$tools/work";
my $child = "$tools/okchild";
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
  my ($port, $c, $n) = @_;
  my $line = `timeout @{[$run_seconds + 10]} $tools/loadgen -c $c -n $n -t $run_seconds -e 3 127.0.0.1 $port`;
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

# ---- the report -------------------------------------------------------------

# Which part wrote a "### " section.
sub part_of {
  my ($heading) = @_;
  return 'rules' if $heading =~ /^### tcprules/;
  return 'conn' if $heading =~ /^### Concurrency/;
  return 'rss' if $heading =~ /^### tcpserver parent/;
  return 'ruleenv' if $heading =~ /^### tcpserver rule variables/;
  return '';
}

# Lines before the first section, and [part, lines] for each section.
sub sections {
  my (@lines) = @_;
  my (@head, @sec);
  for my $l (@lines) {
    last if $l =~ /^## Reading/;
    if ($l =~ /^### /) { push @sec, [part_of($l), [$l]] }
    elsif (@sec) { push @{ $sec[-1][1] }, $l }
    else { push @head, $l }
  }
  return (\@head, @sec);
}

# A run of some parts only: the old report with those parts' sections
# replaced (each new one dated), the others kept as they were.
sub merge_report {
  my ($new, $old_text, $date) = @_;
  my ($old_head, @old) = sections(split /\n/, $old_text);
  my (undef, @new) = sections(@$new);
  return @$new unless @$old_head;
  my $note = sprintf '_Run alone (`BENCH_ONLY=%s`) on %s, %d rounds._', $ENV{BENCH_ONLY}, $date, $rounds;
  my @lines = @$old_head;
  for my $part (@parts) {
    my @from = $only{$part} ? grep { $_->[0] eq $part } @new : grep { $_->[0] eq $part } @old;
    for my $sec (@from) {
      my @l = @{ $sec->[1] };
      splice @l, 1, 0, '', $note if $only{$part} && !grep { $_ eq $note } @l;
      pop @l while @l && $l[-1] eq '';
      push @lines, @l, '';
    }
  }
  pop @lines while @lines && $lines[-1] eq '';
  return @lines;
}

# ---- main ------------------------------------------------------------------

my $date = strftime('%Y-%m-%d %H:%M', localtime);
my $uname = `uname -srm`; chomp $uname;
my $cpus = `nproc`; chomp $cpus;
say_('# Benchmark results');
say_('');
say_("Run by `make bench` on $date, $uname, $cpus CPUs; $rounds interleaved rounds, medians.");
say_("Ours: `$ours`; reference: Debian's ucspi-tcp 0.88 in /usr/bin; limit: `bench/bareloop` (accept, then fork or vfork and exec, nothing else).");
say_("Service: `bench/okchild` (static, writes \"ok\\n\"). Client: `bench/loadgen -c C -n $conns -t $run_seconds -e 3 127.0.0.1 PORT` (connect to EOF).");
say_("Servers: `tcpserver -1 -q -H -R -l x -c 200 [-b 1024] [-x rules.cdb] 127.0.0.1 0 okchild`.");
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
bench_ruleenv() if $only{ruleenv};
# A hand-written reading of the figures, from a line "## Reading" on, is
# kept across runs (to be checked against the new figures).
my ($reading, $old_text) = ('', '');
if (open my $old, '<', $out) {
  local $/;
  $old_text = <$old>;
  $reading = $1 if $old_text =~ /^(## Reading\n.*)\z/ms;
}
my @lines = @report;
@lines = merge_report(\@report, $old_text, $date) if grep { !$only{$_} } @parts;
open my $fh, '>', $out or die "bench: unable to write $out: $!\n";
print $fh "$_\n" for @lines;
print $fh "\n$reading" if $reading;
close $fh;
print "# written to $out\n";
