#!/usr/bin/perl
# Fixes of the base layer, each against the reference (/usr/bin) where it
# is installed: bracketed dotted host literals, names DNS cannot carry,
# "--word" ending the options, tcpclient's fd 6 when fds 3-5 are open,
# tcprulescheck's write errors.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use IO::Socket::IP;
use Test::More;

need_ours('tcpserver', 'tcpclient', 'tcprules', 'tcprulescheck', 'rblsmtpd');
my $dir = tmpdir();
my @impls = (['ours', ours()]);
push @impls, ['reference', '/usr/bin'] if have_ref('tcpserver', 'tcprules');

# A command's (exit code, stdout, stderr), at most 10 s.
sub run {
  my $r = run_cmd([@_], timeout => 10);
  return ($r->{status}, $r->{out}, $r->{err});
}

# A tcpserver -1 ...: (pid, port or undef when it printed none).
sub server {
  my ($pid, $line) = start_process([@_], stderr => "$dir/server.err", timeout => 5);
  return ($pid, defined $line && $line =~ /^(\d+)\s*$/ ? $1 : undef);
}

# One line from 127.0.0.1:port, at most 5 s.
sub line_from {
  my ($port) = @_;
  my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port, Timeout => 5) or return undef;
  return line_within($s, 5);
}

# A listener on 127.0.0.1 that answers each connection with "hello\n".
sub hello_listener {
  my ($pid, $port) = fake_server(sub { print { $_[0] } "hello\n" }) or die "listener: $!";
  return ($pid, $port);
}

my $long = ('a' x 64) . '.example';
for my $impl (@impls) {
  my ($name, $b) = @$impl;

  # Bracketed dotted literals, as 0.88's dns_ip4 takes them.
  my ($pid, $port) = server("$b/tcpserver", '-1', '-RHl0', '[127.0.0.1]', '0', 'echo', 'served');
  ok($port, "$name: tcpserver '[127.0.0.1]' starts");
  is($port ? line_from($port) : undef, "served\n", "$name: ... and serves on 127.0.0.1");
  stop_pid($pid);

  my ($lpid, $lport) = hello_listener();
  my ($code, $out) = run("$b/tcpclient", '-RHl0', '[127.000.000.001]', $lport, 'sh', '-c', 'head -1 <&6');
  is($out, "hello\n", "$name: tcpclient '[127.000.000.001]' connects to 127.0.0.1");
  ($code, $out) = run("$b/tcpclient", '-RHl0', '127.0.0.9.127.0.0.1', $lport, 'sh', '-c', 'head -1 <&6');
  is($out, "hello\n", "$name: eight dotted bytes are two addresses, the second one tried next");
  stop_pid($lpid);

  # A label DNS cannot carry.
  my $err;
  ($code, $out, $err) = run("$b/tcpserver", $long, '0', 'true');
  is($code, 111, "$name: tcpserver, a 64-byte label: exit 111");
  is($err, "tcpserver: fatal: temporarily unable to figure out IP address for $long: protocol error\n",
     "$name: ... protocol error");
  ($code, $out, $err) = run("$b/tcpclient", $long, '1', 'true');
  is($code, 111, "$name: tcpclient, a 64-byte label: exit 111");
  is($err, "tcpclient: fatal: temporarily unable to figure out IP address for $long: protocol error\n",
     "$name: ... protocol error");
}

# "--word" ends the options and is consumed, as 0.88's sgetopt does.
for my $impl (@impls) {
  my ($name, $b) = @$impl;
  my ($pid, $port) = server("$b/tcpserver", '-1', '-RHl0', '--x', '127.0.0.1', '0', 'echo', 'served');
  is($port ? line_from($port) : undef, "served\n", "$name: tcpserver --x HOST PORT PROG serves");
  stop_pid($pid);
  my ($lpid, $lport) = hello_listener();
  my ($code, $out) = run("$b/tcpclient", '-RHl0', '--foo', '127.0.0.1', $lport, 'sh', '-c', 'head -1 <&6');
  is($out, "hello\n", "$name: tcpclient --foo HOST PORT PROG connects");
  stop_pid($lpid);
  my $err;
  ($code, $out, $err) = run("$b/rblsmtpd", '--x', 'echo', 'ran');
  is("$code $out", "0 ran\n", "$name: rblsmtpd --x PROG runs PROG");
  ($code, $out, $err) = run("$b/tcpserver", '-1', '-v', '--', '-x');
  is($code, 100, "$name: after --, -x is the host: too few arguments, usage");
}

# tcpclient started with fds 3-5 open: the socket itself lands on 6.
for my $impl (@impls) {
  my ($name, $b) = @$impl;
  my ($lpid, $lport) = hello_listener();
  my ($code, $out) = run('sh', '-c',
    "exec $b/tcpclient -RHl0 127.0.0.1 $lport sh -c 'head -1 <&6' 3</dev/null 4</dev/null 5</dev/null");
  is($out, "hello\n", "$name: fds 3-5 open: the program still reads fd 6");
  stop_pid($lpid);
}

# tcprulescheck >/dev/full: 0.88 does not check its writes (exit 0);
# ours must not differ.
{
  my $cdb = make_rules("$dir/rules.cdb", "1.2.3.4:allow,X=\"y\"\n");
  for my $impl (@impls) {
    my ($name, $b) = @$impl;
    my ($code, undef, $err) = run('sh', '-c', 'TCPREMOTEIP=1.2.3.4 exec "$0" "$1" >/dev/full',
                                  "$b/tcprulescheck", $cdb);
    is("$code $err", "0 ", "$name: tcprulescheck >/dev/full exits 0 silently, as 0.88");
  }
}

done_testing();
