# The helpers every Perl test shares: where the programs are, skipping,
# processes started and stopped by pid, reads and waits with deadlines,
# the private network namespace, files, /proc counters.  Load it with
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use Ucspi;
#   use Test::More;
#
# Everything below is exported.  Times are in seconds (fractions allowed).
# Every process started through this module is remembered and, if still
# running when the test ends, sent SIGTERM, then SIGKILL, and reaped.
#
# Programs
#   ours(NAME)            "$UCSPI_BIN/NAME" (UCSPI_BIN defaults to build);
#                         ours() is the directory itself
#   ref_bin(NAME)         "/usr/bin/NAME", the reference ucspi-tcp
#   have_ref(NAME...)     true when every reference program is installed
#   have_tool(NAME)       true when NAME is a command in PATH
#   ipv6_bin(NAME)        NAME of Debian's ucspi-tcp-ipv6, the second
#                         oracle, unpacked (never installed: it conflicts
#                         with ucspi-tcp) by make deps into
#                         UCSPI_IPV6_ORACLE (default
#                         /var/cache/ucspi-tcp-modern/ucspi-tcp-ipv6)
#   have_ipv6(NAME...)    true when every one of them is there
#
# Skipping the whole test (a TAP "1..0 # SKIP reason", exit 0)
#   skip_all(REASON)
#   need_ours(NAME...)    skip unless each of ours is built
#   need_ref(NAME...)     skip unless each reference program is installed
#   need_tool(NAME[, REASON])   skip unless the command exists
#   need_ipv6(NAME...)    skip unless each ucspi-tcp-ipv6 program is there
#
# Processes
#   start_process([CMD...], %o)  fork and exec CMD with stdin /dev/null
#       and stdout a pipe; returns (pid, first line of stdout or undef if
#       none within o{timeout}, default 10).  o{stderr}: a file for stderr
#       (default: inherited); o{code}: run in the child before exec.
#   background(CODE)      fork; the child runs CODE, then _exit(0) (no END
#       blocks, no test output from the child); returns the pid.
#   wait_pid(PID, SECONDS)   reap PID; its wait status ($?), or undef if
#       it is still running after SECONDS.
#   stop_pid(PID[, SIGNAL[, SECONDS]])   send SIGNAL (default TERM), wait
#       up to SECONDS (default 5); the wait status, or undef when it had to
#       be killed with SIGKILL (then reaped).  A PID that is no child of
#       ours any more (reaped already) is left alone: undef.
#   start_server(SERVER, [ARGS...], %o)  SERVER -1 ARGS (a tcpserver, ours
#       or the reference; ARGS end with host, port, program) with stderr
#       to a log file; returns { pid, port, log }.  o{log}: the log file
#       (default a fresh one in tmpdir()); o{env}: added to the
#       environment; o{code}: run in the child before exec.  When ARGS[0]
#       contains a v it waits (up to 5 s) for the first "status: 0/" line.
#       Dies when the server prints no port.
#   stop_server(S)        stop_pid(S->{pid}) (S may also be a pid)
#   log_settled(S[, SECONDS])   wait (default 10 s) until the -v log of
#       start_server's S shows every child ended: an "end" line, then
#       "status: 0/N" last.  True when it does.
#   normalise(TEXT)       a tcpserver log with pids and ports replaced
#       (PID, LPORT, RPORT), so that two runs compare
#   make_rules(CDB, TEXT[, TCPRULES])  compile the rules TEXT into CDB
#       (temporary file CDB.tmp) with TCPRULES (default ours); returns CDB,
#       dies with tcprules' message when it fails.
#   fake_server(CODE, %o)  a listener on o{host} (127.0.0.1) port o{port}
#       (default 0: the kernel's choice), and a
#       background child accepting on it that calls CODE->(SOCKET) per
#       connection (SIGPIPE ignored, the socket closed after), o{once}:
#       for the first connection only, then it exits; it gives up after
#       o{timeout} (60) s.  Returns (pid, port); () when the host has no
#       such address.
#   run_cmd([CMD...], %o) run CMD to its end with a deadline; returns
#       { out, err, status, seconds }: status is the exit code, 128+signal
#       when killed by one, -1 when o{timeout} (default 20) passed (it is
#       then killed).  o{in}: stdin as a string (default empty);
#       o{stdin}: a file for stdin instead; o{env}: the exact environment
#       (PATH=/bin:/usr/bin added unless given; default: inherited).
#
# Reading and waiting
#   line_within(FH, SECONDS)   the next line of FH (unbuffered reads), or
#       what came before EOF, or undef when nothing came in time.
#   read_to_eof(FH, SECONDS[, \$EOF])   all FH gives until EOF or the
#       deadline; $EOF (optional) is set true when EOF was reached.
#   env_of(TEXT)          the NAME=value lines of TEXT (a program printing
#       its environment) as a hash reference
#   count_of(TEXT, REGEX) how many times REGEX matches in TEXT
#   free_port()           a TCP port on 127.0.0.1 free a moment ago (bind to
#       0, read, close): for a program that cannot print its own; the
#       caller retries if another process took it meanwhile.
#   fetch(PORT[, DATA[, HOST]])   connect to HOST (127.0.0.1) PORT, send
#       DATA and shut down the write side if DATA is defined, read to EOF
#       within 10 s; what was read ('' when the connection fails).
#   wait_until(SECONDS, CODE)  call CODE every 10 ms until it returns true
#       or SECONDS pass; its last value.
#
# Private network namespace
#   private_net(%o)       re-execute the test (same perl, script and
#       arguments) in a new network namespace with only lo, brought up;
#       o{mount}: a new mount namespace too.  Call it before any output.
#       Returns 1 inside it, 0 when none can be had.
#   need_private_net(%o)  private_net, or skip the test.
#
# Files
#   tmpdir()              this test's temporary directory (removed at end)
#   slurp(FILE)           the bytes of FILE, '' when it cannot be read
#   spew(FILE, BYTES)     write FILE (raw), die on error
#   show(BYTES[, MAX])    printable: bytes outside 0x20..0x7e as \xNN,
#       cut to MAX characters with "..." when longer
#   show_text(BYTES)      the same but newlines kept, for diag()
#
# /proc
#   fd_count(PID)         open descriptors of PID (-1 when unknown)
#   children(PID)         the children of PID: a list of [pid, state]
#   cpu_ticks(PID)        utime + stime of PID in clock ticks (-1: unknown)
package Ucspi;
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::IP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(ours ref_bin have_ref have_tool ipv6_bin have_ipv6
  skip_all need_ours need_ref need_tool need_ipv6
  start_process background wait_pid stop_pid start_server stop_server run_cmd
  log_settled normalise
  make_rules fake_server
  line_within read_to_eof fetch free_port wait_until env_of count_of
  private_net need_private_net
  tmpdir slurp spew show show_text
  fd_count children cpu_ticks working_in);

my $owner = $$;          # forked children must not clean up the test's processes
my %started;             # pid => 1 for every process still to be reaped
my $tmp;

# --- programs and skipping

sub ours { my $d = $ENV{UCSPI_BIN} || 'build'; return @_ ? "$d/$_[0]" : $d }
sub ref_bin { "/usr/bin/$_[0]" }
sub have_ref { for (@_) { return 0 unless -x ref_bin($_) } return 1 }
sub have_tool { return system("command -v '$_[0]' >/dev/null 2>&1") == 0 }
sub ipv6_dir { $ENV{UCSPI_IPV6_ORACLE} || '/var/cache/ucspi-tcp-modern/ucspi-tcp-ipv6' }
sub ipv6_bin { ipv6_dir() . "/usr/bin/$_[0]" }
sub have_ipv6 { for (@_) { return 0 unless -x ipv6_bin($_) } return 1 }

sub skip_all {
  my ($why) = @_;
  require Test::More;
  Test::More::plan(skip_all => $why);
}

sub need_ours { for (@_) { skip_all("$_ not built yet") unless -x ours($_) } }
sub need_ref { for (@_) { skip_all("reference $_ not installed") unless -x ref_bin($_) } }
sub need_tool { my ($t, $why) = @_; skip_all($why // "$t is missing") unless have_tool($t) }
sub need_ipv6 {
  for (@_) {
    skip_all("ucspi-tcp-ipv6's $_ is not unpacked in " . ipv6_dir() .
      ' (make deps as root fetches it)') unless -x ipv6_bin($_);
  }
}

# --- files

sub tmpdir { $tmp //= tempdir('ucspi-test-XXXXXX', TMPDIR => 1, CLEANUP => 1) }

sub slurp {
  my ($f) = @_;
  open my $h, '<:raw', $f or return '';
  local $/;
  my $d = <$h>;
  return $d // '';
}

sub spew {
  my ($f, $d) = @_;
  open my $h, '>:raw', $f or die "$f: $!";
  print $h $d;
  close $h or die "$f: $!";
}

sub show {
  my ($s, $max) = @_;
  $s //= '';
  $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
  return defined $max && length $s > $max ? substr($s, 0, $max) . '...' : $s;
}

sub show_text {
  my ($s) = @_;
  $s //= '';
  $s =~ s/([^\x20-\x7e\n])/sprintf('\\x%02x', ord $1)/ge;
  return $s;
}

# --- processes

sub wait_pid {
  my ($pid, $seconds) = @_;
  my $end = time + $seconds;
  my $pause = 0.001;
  while (1) {
    my $r = waitpid($pid, WNOHANG);
    if ($r == $pid || $r == -1) {
      delete $started{$pid};
      return $r == $pid ? $? : undef;
    }
    return undef if time > $end;
    sleep $pause;
    $pause = 0.02 if ($pause *= 2) > 0.02;
  }
}

sub stop_pid {
  my ($pid, $signal, $seconds) = @_;
  # Already reaped (not a child any more): never signal a pid now reused.
  my $r = waitpid($pid, WNOHANG);
  if ($r != 0) { delete $started{$pid}; return $r == $pid ? $? : undef }
  kill $signal // 'TERM', $pid;
  my $status = wait_pid($pid, $seconds // 5);
  return $status if defined $status;
  kill 'KILL', $pid;
  waitpid($pid, 0);
  delete $started{$pid};
  return undef;
}

sub start_process {
  my ($cmd, %o) = @_;
  pipe(my $r, my $w) or die "pipe: $!";
  my $pid = fork // die "fork: $!";
  if (!$pid) {
    close $r;
    open STDIN, '<', '/dev/null';
    open STDOUT, '>&', $w;
    if (defined $o{stderr}) { open STDERR, '>', $o{stderr} or die "$o{stderr}: $!" }
    $o{code}->() if $o{code};
    exec { $cmd->[0] } @$cmd or print STDERR "exec $cmd->[0]: $!\n";
    POSIX::_exit(127);
  }
  close $w;
  $started{$pid} = 1;
  my $line = line_within($r, $o{timeout} // 10);
  close $r;
  return ($pid, $line);
}

sub background {
  my ($code) = @_;
  my $pid = fork // die "fork: $!";
  if (!$pid) {
    $code->();
    POSIX::_exit(0);
  }
  $started{$pid} = 1;
  return $pid;
}

my $nlog = 0;
sub start_server {
  my ($server, $args, %o) = @_;
  my $log = $o{log} // tmpdir() . '/server-log' . $nlog++;
  my ($pid, $line) = start_process([$server, '-1', @$args], stderr => $log, code => sub {
    $ENV{$_} = $o{env}{$_} for keys %{ $o{env} || {} };
    $o{code}->() if $o{code};
  });
  die "$server printed no port: " . slurp($log) unless defined $line && $line =~ /^(\d+)\s*$/;
  my $s = { pid => $pid, port => $1, log => $log };
  wait_until(5, sub { slurp($log) =~ m{status: 0/} }) if ($args->[0] // '') =~ /v/;
  return $s;
}

sub stop_server { my ($s) = @_; return stop_pid(ref $s ? $s->{pid} : $s) }

sub log_settled {
  my ($s, $seconds) = @_;
  return wait_until($seconds // 10,
    sub { slurp($s->{log}) =~ m{end \d+ status \d+\ntcpserver: status: 0/\d+\n\z} });
}

sub normalise {
  my ($text) = @_;
  $text //= '';
  $text =~ s/^(tcpserver: (?:pid|ok|deny|end)) \d+/$1 PID/mg;
  $text =~ s/^(tcpserver: (?:ok|deny) PID [^ ]*:)\d+ (.*):\d+$/$1LPORT $2:RPORT/mg;
  return $text;
}

sub run_cmd {
  my ($cmd, %o) = @_;
  my $dir = tmpdir();
  my $stdin = $o{stdin};
  if (!defined $stdin) { $stdin = "$dir/run-in"; spew($stdin, $o{in} // '') }
  my $start = time;
  my $pid = fork // die "fork: $!";
  if (!$pid) {
    %ENV = (PATH => '/bin:/usr/bin', %{ $o{env} }) if $o{env};
    open STDIN, '<', $stdin or die "$stdin: $!";
    open STDOUT, '>', "$dir/run-out" or die;
    open STDERR, '>', "$dir/run-err" or die;
    exec { $cmd->[0] } @$cmd or print STDERR "exec $cmd->[0]: $!\n";
    POSIX::_exit(127);
  }
  $started{$pid} = 1;
  my $st = wait_pid($pid, $o{timeout} // 20);
  my $status;
  if (!defined $st) { stop_pid($pid, 'KILL'); $status = -1 }
  else { $status = $st & 127 ? 128 + ($st & 127) : $st >> 8 }
  return { out => slurp("$dir/run-out"), err => slurp("$dir/run-err"), status => $status,
           seconds => time - $start };
}

# --- reading and waiting

sub make_rules {
  my ($cdb, $text, $tcprules) = @_;
  my $r = run_cmd([$tcprules // ours('tcprules'), $cdb, "$cdb.tmp"], in => $text);
  die "tcprules $cdb: $r->{err}" if $r->{status};
  return $cdb;
}

sub fake_server {
  my ($code, %o) = @_;
  my $l = IO::Socket::IP->new(Listen => 16, LocalHost => $o{host} // '127.0.0.1', LocalPort => $o{port} // 0,
                              ReuseAddr => 1) or return;
  my $pid = background(sub {
    $SIG{PIPE} = 'IGNORE';
    $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm($o{timeout} // 60);
    while (my $c = $l->accept) {
      $code->($c);
      close $c;
      last if $o{once};
    }
  });
  my $port = $l->sockport;
  close $l;
  return ($pid, $port);
}

sub env_of { my ($text) = @_; my %e = $text =~ /^([A-Za-z0-9_]+)=(.*)$/mg; return \%e }
sub count_of { my ($text, $re) = @_; my $n = () = $text =~ /$re/g; return $n }

sub free_port {
  my $s = IO::Socket::IP->new(Listen => 1, LocalHost => '127.0.0.1', LocalPort => 0) or die "free_port: $!";
  my $p = $s->sockport;
  close $s;
  return $p;
}

sub line_within {
  my ($fh, $seconds) = @_;
  my $end = time + $seconds;
  my $sel = IO::Select->new($fh);
  my $line = '';
  while (1) {
    my $left = $end - time;
    last if $left <= 0 || !$sel->can_read($left);
    my $n = sysread($fh, my $c, 1);
    last unless $n;
    $line .= $c;
    return $line if $c eq "\n";
  }
  return length $line ? $line : undef;
}

sub read_to_eof {
  my ($fh, $seconds, $eofref) = @_;
  my $end = time + $seconds;
  my $sel = IO::Select->new($fh);
  my ($got, $eof) = ('', 0);
  while (1) {
    my $left = $end - time;
    last if $left <= 0 || !$sel->can_read($left);
    my $n = sysread($fh, my $buf, 65536);
    if (!$n) { $eof = 1; last }
    $got .= $buf;
  }
  $$eofref = $eof if $eofref;
  return $got;
}

sub fetch {
  my ($port, $data, $host) = @_;
  my $c = IO::Socket::IP->new(PeerHost => $host // '127.0.0.1', PeerPort => $port, Timeout => 5)
    or return '';
  if (defined $data) {
    local $SIG{PIPE} = 'IGNORE';
    syswrite($c, $data);
    shutdown($c, 1);
  }
  my $got = read_to_eof($c, 10);
  close $c;
  return $got;
}

sub wait_until {
  my ($seconds, $code) = @_;
  my $end = time + $seconds;
  while (1) {
    my $v = $code->();
    return $v if $v || time > $end;
    sleep 0.01;
  }
}

# --- private network namespace

# The marker is the pid of the shell that execs perl in the namespace (so
# perl's own pid): a child of a namespaced test is not mistaken for one.
sub private_net {
  my (%o) = @_;
  my $mark = $ENV{UCSPI_NETNS} // '';
  if ($mark eq $$) {
    return system('ip', 'link', 'set', 'lo', 'up') == 0 ? 1 : 0;
  }
  return 0 if $mark ne '';
  return 0 unless have_tool('ip') && have_tool('unshare');
  my @ns = ('-n', $o{mount} ? '-m' : ());
  for my $u (['unshare', @ns], ['unshare', '-r', @ns]) {
    next if system("@$u true 2>/dev/null") != 0;
    exec(@$u, '--', 'sh', '-c', 'UCSPI_NETNS=$$ exec "$@"', 'sh', $^X, $0, @ARGV)
      or die "exec unshare: $!";
  }
  return 0;
}

sub need_private_net { skip_all('no private network namespace (unshare -n, ip)') unless private_net(@_) }

# --- /proc

sub fd_count {
  opendir my $d, "/proc/$_[0]/fd" or return -1;
  return scalar grep { /^\d+$/ } readdir $d;
}

sub children {
  my ($ppid) = @_;
  my @kids;
  opendir my $d, '/proc' or return ();
  for my $p (grep { /^\d+$/ } readdir $d) {
    open my $fh, '<', "/proc/$p/stat" or next;
    my $s = <$fh>;
    next unless defined $s && $s =~ /\) (\S) (\d+) /;
    push @kids, [$p, $1] if $2 == $ppid;
  }
  return @kids;
}

# Every process (but this one) whose working directory is dir or below:
# what a supervisor started from a service directory there.
sub working_in {
  my ($dir) = @_;
  my @pids;
  for my $d (glob('/proc/[0-9]*')) {
    my $cwd = readlink("$d/cwd");
    push @pids, $d =~ m{(\d+)$} if defined $cwd && index($cwd, $dir) == 0;
  }
  return grep { $_ != $$ } @pids;
}

sub cpu_ticks {
  open my $fh, '<', "/proc/$_[0]/stat" or return -1;
  my $s = <$fh>;
  $s =~ s/^.*\) //;
  my @f = split ' ', $s;
  return $f[11] + $f[12];
}

END {
  local $?;   # keep the test's exit status
  if ($$ == $owner) {
    stop_pid($_, 'TERM', 2) for keys %started;
  }
}

1;
