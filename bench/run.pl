#!/usr/bin/perl
# The benchmark driver of `make bench`: our programs against the reference
# (Debian's ucspi-tcp 0.88 in /usr/bin) and peer servers, interleaved
# A B A B so that noise falls on both, loopback only, every run bounded
# in count and time.  The shared helpers and some parts are in bench/lib.
# Environment: UCSPI_BIN (our build, absolute), BENCH_BIN (the tools of
# bench/, default $UCSPI_BIN/bench), BENCH_ROUNDS (5), BENCH_CONNS (5000
# connections a run), BENCH_RSS_CONNS (10000), BENCH_OUT (report file,
# default bench/RESULTS.md), BENCH_ONLY (comma list of parts: startup,
# conn, rules, rss, limits, proxy, ruleenv, tls; default all; tls:
# bench/tls.pl),
# BENCH_STARTUP_RUNS (1000 starts a round of each start-up chain),
# BENCH_LIMIT_CONNS (20000: short connections a run of the limits part),
# BENCH_HELD (2000,10000: connections held open, besides 10),
# BENCH_RULEENV_CONNS (2000 connections a run with one rule variable, a
# quarter with 3,000, a fortieth with 30,000); the peer servers of the
# conn part, each used when found and reported as skipped otherwise:
# BENCH_TCPSVD (ipsvd's tcpsvd; default tcpsvd in PATH), BENCH_BUSYBOX (a
# busybox with the tcpsvd applet; default busybox in PATH),
# BENCH_S6_TCPSERVER (default s6-tcpserver in PATH).  The sections of the
# parts not run are kept from the report file as they were.
use strict;
use warnings;
use POSIX qw(strftime);
use Cwd ();
use FindBin;
use lib "$FindBin::Bin/lib";
use Bench;
use Bench::Syscalls;
use Bench::Startup;
use Bench::Limits;
use Bench::RuleEnv;

my $conns = $ENV{BENCH_CONNS} || 5000;
my $rss_conns = $ENV{BENCH_RSS_CONNS} || 10000;
my $out = $ENV{BENCH_OUT} || 'bench/RESULTS.md';
my @parts = qw(startup rules conn rss limits proxy ruleenv tls);
my %only = map { $_ => 1 } split /,/, ($ENV{BENCH_ONLY} || join ',', @parts);

-x "$tools/loadgen" or die "bench: tools missing in $tools: run make bench\n";

# ---- connections per second --------------------------------------------

# The peer servers measured beside ours: [name, command words] when found,
# or [name, undef, why not].
sub in_path {
  my ($prog) = @_;
  for my $d (split /:/, $ENV{PATH} // '') { return "$d/$prog" if -x "$d/$prog" }
  return undef;
}
sub anchors {
  my @a;
  my $tcpsvd = $ENV{BENCH_TCPSVD} || in_path('tcpsvd');
  push @a, $tcpsvd ? ['tcpsvd (ipsvd)', [split ' ', $tcpsvd]] : ['tcpsvd (ipsvd)', undef, 'not found (Debian package ipsvd, or BENCH_TCPSVD)'];
  my $bb = $ENV{BENCH_BUSYBOX} || in_path('busybox');
  if ($bb && `$bb --list 2>/dev/null` =~ /^tcpsvd$/m) { push @a, ['busybox tcpsvd', [$bb, 'tcpsvd']] }
  else { push @a, ['busybox tcpsvd', undef, $bb ? "$bb has no tcpsvd applet (Debian's busybox is built without it; BENCH_BUSYBOX names another)" : 'no busybox (BENCH_BUSYBOX)'] }
  my $s6 = $ENV{BENCH_S6_TCPSERVER} || in_path('s6-tcpserver');
  push @a, $s6 ? ['s6-tcpserver', [$s6]] : ['s6-tcpserver', undef, 'not found (s6-networking is not in Debian 12; BENCH_S6_TCPSERVER names one)'];
  return @a;
}

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
  # The peers: no -1, so on a port found free (PORT); tcpsvd's -l x and
  # no -h as ours; s6-tcpserver looks up no names by default.
  for my $a (grep { $_->[1] } anchors()) {
    my @opts = $a->[0] =~ /tcpsvd/ ? ('-c', '200', @b, '-l', 'x') : ('-c', '200', @b);
    push @cfg, [$a->[0], @{ $a->[1] }, @opts, '127.0.0.1', 'PORT', $child];
  }
  push @cfg, ['limit fork', "$tools/bareloop", 'fork', $child];
  push @cfg, ['limit vfork', "$tools/bareloop", 'vfork', $child];
  push @cfg, ['limit clone', "$tools/bareloop", 'clone', $child];
  return @cfg;
}

sub start_config { my @cmd = @_; return grep({ $_ eq 'PORT' } @cmd) ? start_server_at(@cmd) : start_server(@cmd) }

my @conn_targets = (['reference', 1.3], ['best peer', 1.1], ['limit vfork', 0.95]);

# ours against the issue's targets, in one line each.
sub conn_targets {
  my ($med) = @_;
  my @peers = sort { $med->{$b}{cps} <=> $med->{$a}{cps} } grep { $med->{$_} && $med->{$_}{cps} } map { $_->[0] } anchors();
  for my $t (@conn_targets) {
    my ($what, $min) = @$t;
    my $other = $what eq 'best peer' ? $peers[0] : $what;
    my $q = $other && $med->{$other} ? ratio($med->{ours}{cps}, $med->{$other}{cps}) : '-';
    say_(sprintf 'ours / %s: %s (target: at least %s): %s', $what eq 'best peer' ? 'best peer' . ($other ? " ($other)" : '') : $what, $q, $min,
      $q eq '-' ? 'no figure' : $q >= $min ? 'met' : 'NOT met');
  }
}

sub conn_syscalls {
  my ($c, $cdb) = @_;
  syscalls_table_head("2,000 connections at concurrency $c, the same servers");
  for my $cfg (server_configs($c, $cdb)) {
    my ($name, @cmd) = @$cfg;
    next if $name =~ /-x$/;
    my ($pid, $port, $fh) = start_config(@cmd);
    my $s = syscalls_during($pid, sub { loadgen($port, $c, 2000) });
    stop_server($pid, $fh);
    syscalls_line($name, $s);
  }
}

sub bench_connections {
  my ($cdb) = @_;
  for my $c (16, 64) {
    my @cfg = server_configs($c, $cdb);
    my %res;
    for my $round (1 .. $rounds) {
      for my $cfg (@cfg) {
        my ($name, @cmd) = @$cfg;
        my ($pid, $port, $fh) = start_config(@cmd);
        my $r = loadgen($port, $c, $conns);
        my $cpu = cpu_seconds($pid);
        $r->{cpu_us} = $cpu * 1e6 / $r->{completed} if defined $cpu && $r->{completed};
        stop_server($pid, $fh);
        printf "# c=%d round %d %-14s %s\n", $c, $round, $name, join ' ', map { "$_=" . ($r->{$_} // '?') } qw(completed failed cps p50_us p99_us max_us cpu_us);
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
    say_('');
    say_("Peer not measured: $_->[0]: $_->[2].") for grep { !$_->[1] } anchors();
    if ($med{'ours -x'} && $med{ours}) {
      say_(sprintf 'ours with `-x` (10^6-line cdb) / ours without: %s', ratio($med{'ours -x'}{cps}, $med{ours}{cps}));
    }
    if ($med{'reference -x'} && $med{reference}) {
      say_(sprintf 'reference with `-x` / reference without: %s', ratio($med{'reference -x'}{cps}, $med{reference}{cps}));
    }
    conn_targets(\%med) if $med{ours};
    conn_syscalls($c, $cdb);
  }
}

# ---- tcprules and tcprulescheck ------------------------------------------

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
      my ($us) = `$tools/spawnloop $count $p->[1] $cdb` =~ /p50_us=([\d.]+)/;
      push @{ $t{ $p->[0] }{us} }, $us;
    }
  }
  for my $p (@progs) {
    my (undef, $rss) = timed('/dev/null', $p->[1], $cdb);
    $t{ $p->[0] }{rss} = $rss;
  }
  say_('');
  say_("### tcprulescheck on the 10^6-line cdb ($count invocations a round, one lookup each; p50 of each round's invocations)");
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
    MAXCONNIP => "127.0.0.1:allow,MAXCONNIP=\"1000\"\n192.0.2.:allow,CLIENT=\"balanced\"\n:allow\n",
  );
  my %cdb;
  for my $name (sort keys %rules) {
    (my $file = "$work/proxy-$name") =~ s/ /-/g;
    open my $fh, '|-', "$ours/tcprules", "$file.cdb", "$file.tmp" or die "bench: tcprules: $!\n";
    print $fh $rules{$name};
    close $fh or die "bench: tcprules failed\n";
    $cdb{$name} = "$file.cdb";
  }
  # [name, rules, the server's options, loadgen's]: the limits are in
  # force (each connection counted and checked) but never reached.
  my @cfg = (['plain', 'plain', [], []], ['-C 1000', 'plain', ['-C', '1000'], []],
             ['MAXCONNIP rule', 'MAXCONNIP', [], []], ['PROXY v2', 'PROXY v2', [], ['-p', '2']]);
  my %res;
  for my $round (1 .. $rounds) {
    for my $cfg (@cfg) {
      my ($name, $rules, $sopts, $extra) = @$cfg;
      my ($pid, $port, $fh) = start_server("$ours/tcpserver", '-1', '-q', '-H', '-R', '-l', 'x', '-c', '200', @$sopts,
        '-x', $cdb{$rules}, '127.0.0.1', '0', $child);
      my $r = loadgen($port, $c, $conns, @$extra);
      my $cpu = cpu_seconds($pid);
      $r->{cpu_us} = $cpu * 1e6 / $r->{completed} if defined $cpu && $r->{completed};
      stop_server($pid, $fh);
      printf "# proxy round %d %-14s %s\n", $round, $name, join ' ', map { "$_=" . ($r->{$_} // '?') } qw(completed failed cps p50_us p99_us cpu_us);
      push @{ $res{$name} }, $r;
    }
  }
  say_('');
  say_("### Behind a balancer, and with limits in force: PROXY v2 header, -C, MAXCONNIP against plain connections (ours, concurrency $c)");
  say_('');
  say_('Same server (`tcpserver -1 -q -H -R -l x -c 200 -x rules.cdb 127.0.0.1 0 okchild`), same rules but for');
  say_('`PROXYPROTOCOL="v2"` on the balancer\'s rule; `loadgen -p 2` sends a 28-byte v2 header for 192.0.2.1');
  say_('at the start of each connection (its rule `192.0.2.:allow,...` is then looked up as well).');
  say_('`-C 1000` (the server\'s option) and `MAXCONNIP="1000"` (on the client\'s rule) count and check every');
  say_('connection but are never reached.');
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
  syscalls_table_head('2,000 connections, plain, with a limit in force or with the PROXY v2 header');
  for my $cfg (@cfg) {
    my ($name, $rules, $sopts, $extra) = @$cfg;
    my ($pid, $port, $fh) = start_server("$ours/tcpserver", '-1', '-q', '-H', '-R', '-l', 'x', '-c', '200', @$sopts,
      '-x', $cdb{$rules}, '127.0.0.1', '0', $child);
    my $s = syscalls_during($pid, sub { loadgen($port, $c, 2000, @$extra) });
    stop_server($pid, $fh);
    syscalls_line("ours, $name", $s);
  }
  say_('');
  for my $name (map { $_->[0] } @cfg[1 .. $#cfg]) {
    my $q = ratio($med{$name}{cps}, $med{plain}{cps});
    say_(sprintf '%s / plain: %s of the connection rate (target: at least 0.90, i.e. at most 10%% slower): %s', $name, $q,
      $q eq '-' ? 'no figure' : $q >= 0.90 ? 'met' : 'NOT met');
  }
}

# ---- main ------------------------------------------------------------------

# The headings of each part's sections, to keep those of parts not run.
my %part_heading = (
  startup => qr/^### Start-up/,
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
say_("Ours: `$ours_shown`; reference: Debian's ucspi-tcp 0.88 in /usr/bin; limit: `bench/bareloop` (accept, then fork, vfork or clone(CLONE_VM) and exec, nothing else).");
say_("Service: `bench/okchild` (static, on musl when there is musl-gcc; writes \"ok\\n\"). Client: `bench/loadgen -c C -n $conns -t $run_seconds -e 3 127.0.0.1 PORT` (connect to EOF).");
say_("Servers: `tcpserver -1 -q -H -R -l x -c 200 [-b 1024] [-x rules.cdb] 127.0.0.1 0 okchild`.");
my @not_run = grep { !$only{$_} } @parts;
say_("Parts run: " . join(', ', grep { $only{$_} } @parts) . '.') if @not_run && @kept;
say_("Kept sections: $earlier") if @not_run && @kept;
say_('Not built yet: ' . join(', ', grep { !have("$ours/$_") } qw(tcpserver tcprules tcprulescheck))) if grep { !have("$ours/$_") } qw(tcpserver tcprules tcprulescheck);
say_('Every figure is from a machine shared with other work: compare ratios within one run only.');
bench_startup() if $only{startup};
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

