# Helpers of tests/server_*.t: start our tcpserver or the reference with
# -1 on loopback, talk to it with bounded waits, normalise its log, and
# stop every process started, by pid (robust_lib's spawn_server kills
# what is left at the end).
package server_lib;
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use robust_lib qw(fd_count children wait_until slurp spawn_server);
our @EXPORT = qw(ours ref_bin have_ref need_ours tmp start stop fetch
  normalise log_settled private_net fd_count children wait_until slurp);

my $tmp = tempdir('server-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub tmp { $tmp }
sub ours { my $d = $ENV{UCSPI_BIN} || 'build'; return "$d/$_[0]" }
sub ref_bin { "/usr/bin/$_[0]" }
sub have_ref { -x ref_bin('tcpserver') && -x ref_bin('tcprules') }

sub need_ours {
  for (@_) {
    next if -x ours($_);
    print "1..0 # SKIP $_ not built yet\n";
    exit 0;
  }
}

# start(SERVER, [ARGS...], %o): runs SERVER -1 ARGS (ARGS include host,
# port and program) with stderr to a fresh log file; o{env} adds to the
# environment, o{code} runs in the child before exec.  Returns a hash:
# pid, port, log (file name).
my $nlog = 0;
sub start {
  my ($server, $args, %o) = @_;
  my $log = "$tmp/log" . $nlog++;
  my ($pid, $port) = spawn_server($server, $log, $args, sub {
    $ENV{$_} = $o{env}{$_} for keys %{ $o{env} || {} };
    $o{code}->() if $o{code};
  });
  my $s = { pid => $pid, port => $port, log => $log };
  wait_until(5, sub { slurp($log) =~ /status: 0\// || $args->[0] !~ /v/ });
  return $s;
}

# SIGTERM, then the exit status (or undef when it had to be killed).
sub stop {
  my ($s) = @_;
  kill 'TERM', $s->{pid};
  for (1 .. 100) {
    return $? if waitpid($s->{pid}, WNOHANG) == $s->{pid};
    sleep 0.05;
  }
  kill 'KILL', $s->{pid};
  waitpid($s->{pid}, 0);
  return undef;
}

# Connect to HOST (default 127.0.0.1) port, send DATA if given, read to
# EOF; at most 10 seconds.  Returns what was read ('' on failure).
sub fetch {
  my ($port, $data, $host) = @_;
  my $c = IO::Socket::IP->new(PeerHost => $host // '127.0.0.1',
                              PeerPort => $port, Timeout => 5) or return '';
  my $got = '';
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    print $c $data if defined $data;
    shutdown($c, 1) if defined $data;
    while (1) {
      my $n = sysread($c, my $buf, 65536);
      last unless $n;
      $got .= $buf;
    }
    alarm 0;
  };
  close $c;
  return $got;
}

# Wait until the log shows all children ended ("status: 0/L" last).
sub log_settled {
  my ($s) = @_;
  return wait_until(10, sub { slurp($s->{log}) =~ m{end \d+ status \d+\ntcpserver: status: 0/\d+\n\z} });
}

# Pids and port numbers replaced, so that two runs compare.
sub normalise {
  my ($text) = @_;
  $text //= '';
  $text =~ s/^(tcpserver: (?:pid|ok|deny|end)) \d+/$1 PID/mg;
  $text =~ s/^(tcpserver: (?:ok|deny) PID [^ ]*:)\d+ (.*):\d+$/$1LPORT $2:RPORT/mg;
  return $text;
}

# Re-run the test in a private network namespace (only its own loopback),
# so that wildcard binds and port 113 are safe and conflict with nothing.
# Returns 1 inside one, 0 when none can be had (the caller skips).
sub private_net {
  if (($ENV{SERVER_NETNS} // '') eq $$) {
    return system('ip', 'link', 'set', 'lo', 'up') == 0 ? 1 : 0;
  }
  return 0 if ($ENV{SERVER_NETNS} // '') ne '';
  for my $u (['unshare', '-n'], ['unshare', '-r', '-n']) {
    next if system("@$u true 2>/dev/null") != 0;
    next if system('ip -V >/dev/null 2>&1') != 0;
    exec @$u, '--', 'sh', '-c', 'SERVER_NETNS=$$ exec "$@"', 'sh', $^X, '-Itests', $0, @ARGV;
  }
  return 0;
}

1;
