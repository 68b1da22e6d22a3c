#!/usr/bin/perl
# Fixes of the base layer, each against the reference (/usr/bin) where it
# is installed: bracketed dotted host literals, names DNS cannot carry,
# "--word" ending the options, tcpclient's fd 6 when fds 3-5 are open,
# tcprulescheck's write errors.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);

my $bin = $ENV{UCSPI_BIN} || 'build';
my $dir = tempdir(CLEANUP => 1);
my @impls = (['ours', $bin]);
push @impls, ['reference', '/usr/bin'] if -x '/usr/bin/tcpserver' && -x '/usr/bin/tcprules';
my @kids;
END { local $?; for (@kids) { kill 'KILL', $_; waitpid($_, 0) } }

sub slurp { my ($f) = @_; open my $h, '<:raw', $f or return ''; local $/; my $d = <$h>; defined $d ? $d : '' }

# Run a command (list) with stdin from /dev/null, at most 10 s; returns
# exit code, stdout, stderr.  %o: out => FILE for stdout.
sub run {
  my ($o, @cmd) = @_;
  my $out = $o->{out} || "$dir/out";
  my $pid = fork();
  if (!$pid) {
    open STDIN, '<', '/dev/null'; open STDOUT, '>', $out; open STDERR, '>', "$dir/err";
    exec('timeout', '10', @cmd) or exit 99;
  }
  waitpid($pid, 0);
  return ($? >> 8, $o->{out} ? '' : slurp($out), slurp("$dir/err"));
}

# A server (tcpserver -1 ...) in the background; returns (pid, port) once
# it printed its port.
sub start_server {
  my @cmd = @_;
  pipe(my $r, my $w) or die;
  my $pid = fork();
  if (!$pid) {
    close $r; open STDIN, '<', '/dev/null'; open STDOUT, '>&', $w; open STDERR, '>', "$dir/server.err";
    exec(@cmd) or exit 99;
  }
  close $w;
  push @kids, $pid;
  my $port;
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 5;
    $port = <$r>;
    alarm 0;
  };
  chomp $port if defined $port;
  return ($pid, $port);
}

sub stop { my ($pid) = @_; kill 'KILL', $pid; waitpid($pid, 0); @kids = grep { $_ != $pid } @kids }

# One line from 127.0.0.1:port, at most 5 s.
sub line_from {
  my ($port) = @_;
  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or return undef;
  my $line;
  eval { local $SIG{ALRM} = sub { die "timeout\n" }; alarm 5; $line = <$s>; alarm 0 };
  return $line;
}

# A listener on 127.0.0.1 that answers each connection with "hello\n".
sub hello_listener {
  my $l = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1) or die;
  my $pid = fork();
  if (!$pid) { while (my $c = $l->accept) { print $c "hello\n"; close $c } exit 0 }
  push @kids, $pid;
  return ($pid, $l->sockport);
}

my $long = ('a' x 64) . '.example';
for my $impl (@impls) {
  my ($name, $b) = @$impl;

  # Bracketed dotted literals, as 0.88's dns_ip4 takes them.
  my ($pid, $port) = start_server("$b/tcpserver", '-1', '-RHl0', '[127.0.0.1]', '0', 'echo', 'served');
  ok($port && $port =~ /^\d+$/, "$name: tcpserver '[127.0.0.1]' starts");
  is($port ? line_from($port) : undef, "served\n", "$name: ... and serves on 127.0.0.1");
  stop($pid);

  my ($lpid, $lport) = hello_listener();
  my ($code, $out) = run({}, "$b/tcpclient", '-RHl0', '[127.000.000.001]', $lport, 'sh', '-c', 'head -1 <&6');
  is($out, "hello\n", "$name: tcpclient '[127.000.000.001]' connects to 127.0.0.1");
  ($code, $out) = run({}, "$b/tcpclient", '-RHl0', '127.0.0.9.127.0.0.1', $lport, 'sh', '-c', 'head -1 <&6');
  is($out, "hello\n", "$name: eight dotted bytes are two addresses, the second one tried next");
  stop($lpid);

  # A label DNS cannot carry.
  my $err;
  ($code, $out, $err) = run({}, "$b/tcpserver", $long, '0', 'true');
  is($code, 111, "$name: tcpserver, a 64-byte label: exit 111");
  is($err, "tcpserver: fatal: temporarily unable to figure out IP address for $long: protocol error\n",
     "$name: ... protocol error");
  ($code, $out, $err) = run({}, "$b/tcpclient", $long, '1', 'true');
  is($code, 111, "$name: tcpclient, a 64-byte label: exit 111");
  is($err, "tcpclient: fatal: temporarily unable to figure out IP address for $long: protocol error\n",
     "$name: ... protocol error");
}

# "--word" ends the options and is consumed, as 0.88's sgetopt does.
for my $impl (@impls) {
  my ($name, $b) = @$impl;
  my ($pid, $port) = start_server("$b/tcpserver", '-1', '-RHl0', '--x', '127.0.0.1', '0', 'echo', 'served');
  is($port ? line_from($port) : undef, "served\n", "$name: tcpserver --x HOST PORT PROG serves");
  stop($pid) if $pid;
  my ($lpid, $lport) = hello_listener();
  my ($code, $out) = run({}, "$b/tcpclient", '-RHl0', '--foo', '127.0.0.1', $lport, 'sh', '-c', 'head -1 <&6');
  is($out, "hello\n", "$name: tcpclient --foo HOST PORT PROG connects");
  stop($lpid);
  my $err;
  ($code, $out, $err) = run({}, "$b/rblsmtpd", '--x', 'echo', 'ran');
  is("$code $out", "0 ran\n", "$name: rblsmtpd --x PROG runs PROG");
  ($code, $out, $err) = run({}, "$b/tcpserver", '-1', '-v', '--', '-x');
  is($code, 100, "$name: after --, -x is the host: too few arguments, usage");
}

# tcpclient started with fds 3-5 open: the socket itself lands on 6.
for my $impl (@impls) {
  my ($name, $b) = @$impl;
  my ($lpid, $lport) = hello_listener();
  my ($code, $out) = run({}, 'sh', '-c',
    "exec $b/tcpclient -RHl0 127.0.0.1 $lport sh -c 'head -1 <&6' 3</dev/null 4</dev/null 5</dev/null");
  is($out, "hello\n", "$name: fds 3-5 open: the program still reads fd 6");
  stop($lpid);
}

# tcprulescheck >/dev/full: 0.88 does not check its writes (exit 0);
# ours must not differ.
{
  my $cdb = "$dir/rules.cdb";
  open my $in, '|-', "$bin/tcprules $cdb $dir/rules.tmp" or die;
  print $in "1.2.3.4:allow,X=\"y\"\n";
  close $in;
  for my $impl (@impls) {
    my ($name, $b) = @$impl;
    local $ENV{TCPREMOTEIP} = '1.2.3.4';
    my ($code, undef, $err) = run({ out => '/dev/full' }, "$b/tcprulescheck", $cdb);
    is("$code $err", "0 ", "$name: tcprulescheck >/dev/full exits 0 silently, as 0.88");
  }
}

done_testing();
