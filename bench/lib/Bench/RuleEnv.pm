package Bench::RuleEnv;
# tcpserver with big rule environments: one rule with 1, 3,000 or 30,000
# variables of 100 bytes, ours against the reference, and whether the
# cost grows linearly.
use strict;
use warnings;
use IO::Socket::INET;
use Bench;
use Exporter 'import';

our @EXPORT = qw(bench_ruleenv);

my $ruleenv_conns = $ENV{BENCH_RULEENV_CONNS} || 2000;

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

1;
