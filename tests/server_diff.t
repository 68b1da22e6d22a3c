#!/usr/bin/perl
# Differential: our tcpserver and the reference (/usr/bin/tcpserver) on
# the same scenarios; what the client receives (the child's environment,
# banner, descriptors) and the -v log with pids and ports normalised
# must be the same.  Name lookups are off (-H -R -l): the reference asks
# DNS directly while we go through /etc/hosts, see server_env.t.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver');
if (!have_ref('tcpserver', 'tcprules')) { skip_all('reference ucspi-tcp not installed') }

my $t = tmpdir();
sub rules { my ($name, $text) = @_; return make_rules("$t/$name", $text, ref_bin('tcprules')) }
my $allow = rules('allow.cdb', "127.0.0.1:allow,X=\"1\",TCPLOCALHOST=\"ruled\"\n");
my $deny = rules('deny.cdb', "127.:deny\n");
my $other = rules('other.cdb', "10.:deny\n:allow,Y=/two words/\n");
mkdir "$t/dir.cdb";

my $envprog = 'env | grep -E "^(PROTO|TCP|X=|Y=|UID=|GID=)" | LC_ALL=C sort';
my @cases = (
  ['fast path env', [qw(-v -H -R -l x)], $envprog],
  ['empty -l', ['-v', '-H', '-R', '-l', ''], $envprog],
  ['banner', ['-v', '-HRl', 'x', '-B', "hello there\r\n"], 'echo after'],
  ['empty banner', ['-v', '-HRl', 'x', '-B', ''], 'echo after'],
  ['rule sets variables, overriding TCP ones', ['-v', '-HRl', 'x', '-x', $allow], $envprog],
  ['rule denies, banner still sent', ['-v', '-HRl', 'x', '-B', 'B', '-x', $deny], 'echo not here'],
  ['empty-key rule', ['-v', '-HRl', 'x', '-x', $other], $envprog],
  ['missing rules file', ['-v', '-HRl', 'x', '-x', "$t/none.cdb"], 'echo not here'],
  ['missing rules file with -X', ['-v', '-HRl', 'x', '-X', '-x', "$t/none.cdb"], 'echo ran'],
  ['exit status 3', [qw(-v -HRl x)], 'echo three; exit 3'],
  ['killed by a signal', [qw(-v -HRl x)], 'kill -9 $$'],
  ['descriptors of the child', [qw(-v -HRl x)], 'exec ls /proc/self/fd'],
  ['-U keeps UID and GID', [qw(-v -U -HRl x)], $envprog, { UID => 0, GID => 0 }],
  ['inherited TCP variables removed', [qw(-v -HRl x)], $envprog,
   { TCPREMOTEHOST => 'stale', TCPREMOTEINFO => 'stale', TCPLOCALHOST => 'stale' }],
  ['-Q: no status lines', [qw(-Q -HRl x)], 'echo q'],
  ['-q: silent', ['-q', '-HRl', 'x', '-x', "$t/none.cdb"], 'echo q'],
  ['log fields sanitised', ['-v', '-HR', '-l', "a:b%c d\001\351" . ('z' x 120)], 'echo s'],
  ['-D -o accepted', [qw(-v -D -o -HRl x)], 'echo d'],
  ['-c 1 -b 5', [qw(-v -c 1 -b 5 -HRl x)], 'echo c'],
  ['program not found', [qw(-v -HRl x)], undef],
);

for my $c (@cases) {
  my ($name, $opts, $prog, $env) = @$c;
  my @prog = defined $prog ? ('sh', '-c', $prog) : ('/nonexistent/prog');
  my %got;
  for my $which ('ref', 'ours') {
    my $bin = $which eq 'ref' ? ref_bin('tcpserver') : ours('tcpserver');
    my $s = start_server($bin, [@$opts, '127.0.0.1', '0', @prog], env => $env);
    my $out = fetch($s->{port});
    log_settled($s) if grep { /^-v|^-[A-Za-z]*v/ } @$opts;
    # No log to tell: the child is gone once the server has reaped it.
    wait_until(10, sub { !children($s->{pid}) }) if !grep { /v/ } @$opts;
    stop_server($s);
    $out =~ s/^(TCP(?:LOCAL|REMOTE)PORT)=\d+$/$1=N/mg;
    $got{$which} = [$out, normalise(slurp($s->{log}))];
  }
  is($got{ours}[0], $got{ref}[0], "$name: the client sees the same");
  is($got{ours}[1], $got{ref}[1], "$name: the same log");
}

# Startup failures and usage: message and exit code.
my @bad = (
  ['no program', ['127.0.0.1', '0']],
  ['illegal option', ['-Z', '127.0.0.1', '0', 'true']],
  ['-q does not silence option errors', ['-q', '-Z', '127.0.0.1', '0', 'true']],
  ['-q silences the usage after the options', ['-q', '127.0.0.1']],
  ['missing option argument', ['-c']],
  ['bad port name', ['127.0.0.1', 'no-such-service', 'true']],
  ['negative port', ['127.0.0.1', '-1', 'true']],
  ['address not here', ['192.0.2.1', '0', 'true']],
  ['-q silences fatal errors', ['-q', '192.0.2.1', '0', 'true']],
);
for my $b (@bad) {
  my ($name, $args) = @$b;
  my %got;
  for my $which ('ref', 'ours') {
    my $bin = $which eq 'ref' ? ref_bin('tcpserver') : ours('tcpserver');
    my $pid = open(my $fh, '-|');
    if (!$pid) { open STDERR, '>&', \*STDOUT; exec 'timeout', '5', $bin, @$args; exit 127 }
    local $/;
    my $text = <$fh> // '';
    close $fh;
    $got{$which} = [$text, $? >> 8];
  }
  is($got{ours}[0], $got{ref}[0], "$name: same message");
  is($got{ours}[1], $got{ref}[1], "$name: same exit code ($got{ref}[1])");
}

# Port numbers are cut to 16 bits as in 0.88: 65536 + p listens on p.
for my $which ('ref', 'ours') {
  my $bin = $which eq 'ref' ? ref_bin('tcpserver') : ours('tcpserver');
  my $s = start_server($bin, [qw(-HRl x 127.0.0.1 0 echo x)]);
  my $p = $s->{port};
  stop_server($s);
  my $s2 = start_server($bin, ['-HRl', 'x', '127.0.0.1', 65536 + $p, 'echo', 'x']);
  is($s2->{port}, $p, "$which: port 65536+$p means $p");
  stop_server($s2);
}
done_testing();
