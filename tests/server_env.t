#!/usr/bin/perl
# The child's environment for option combinations (ours only; the
# reference resolves names through DNS only, we through getnameinfo, so
# 127.0.0.1 is "localhost" here from /etc/hosts).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('tcpserver', 'tcprules');
my $t = tmpdir();
sub rules { my ($name, $text) = @_; return make_rules("$t/$name", $text) }
my $show = 'for v in PROTO TCPLOCALHOST TCPLOCALIP TCPREMOTEHOST TCPREMOTEIP TCPREMOTEINFO H X; do eval "echo $v=\${$v-unset}"; done';
# The environment a program of a server with these options sees.
sub env_served {
  my ($opts, %o) = @_;
  my $s = start_server(ours('tcpserver'), [@$opts, '127.0.0.1', '0', 'sh', '-c', $show],
                env => $o{env});
  my $out = fetch($s->{port});
  stop_server($s);
  return env_of($out);
}
my $stale = { TCPREMOTEHOST => 'stale', TCPLOCALHOST => 'stale', TCPREMOTEINFO => 'stale' };

my $e = env_served([qw(-R)], env => $stale);
is($e->{PROTO}, 'TCP', 'PROTO');
is($e->{TCPREMOTEHOST}, 'localhost', '-h (default): TCPREMOTEHOST from the reverse lookup');
is($e->{TCPLOCALHOST}, 'localhost', 'no -l: TCPLOCALHOST looked up');
is($e->{TCPREMOTEINFO}, 'unset', '-R: TCPREMOTEINFO removed, not inherited');

$e = env_served([qw(-R -p)]);
is($e->{TCPREMOTEHOST}, 'localhost', '-p: the name maps back to 127.0.0.1, kept');

$e = env_served([qw(-H -R -l here)], env => $stale);
is($e->{TCPREMOTEHOST}, 'unset', '-H: TCPREMOTEHOST removed, not inherited');
is($e->{TCPLOCALHOST}, 'here', '-l: TCPLOCALHOST as given');
is($e->{TCPLOCALIP}, '127.0.0.1', 'TCPLOCALIP');
is($e->{TCPREMOTEIP}, '127.0.0.1', 'TCPREMOTEIP');

my $byname = rules('host.cdb', "=localhost:allow,H=\"yes\"\n127.0.0.1:allow,H=\"ip\"\n");
$e = env_served(['-R', '-x', $byname]);
is($e->{H}, 'ip', 'the ip rule comes before the =host rule');
$byname = rules('host2.cdb', "=localhost:allow,H=\"yes\"\n127.:allow,H=\"prefix\"\n");
$e = env_served(['-R', '-x', $byname]);
is($e->{H}, 'yes', 'slow path: =host rule, found through the looked-up name');
$e = env_served(['-H', '-R', '-l', 'x', '-x', $byname]);
is($e->{H}, 'prefix', '-H: no name, the prefix rule');

my $over = rules('over.cdb', "127.0.0.1:allow,TCPREMOTEHOST=\"set.by.rule\",X=\"1\"\n");
$e = env_served(['-R', '-x', $over]);
is($e->{TCPREMOTEHOST}, 'set.by.rule', 'rule variables override the TCP ones');
is($e->{X}, '1', 'rule variable set');
done_testing();
