# Helpers of tests/rbl_*.t: a private network namespace with only
# loopback, the test DNS responder (tests/rbl_dnsd.pl) on 127.0.0.1:53
# there, and runs of our rblsmtpd and the reference's with a given input,
# environment and safety timeout.  Every process started is stopped by pid.
package rbl_lib;
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use IPC::Open3;
use POSIX qw(WNOHANG);
use Symbol 'gensym';
use Time::HiRes qw(sleep time);
use Cwd 'abs_path';
use File::Basename 'dirname';
use robust_lib qw(line_within);
our @EXPORT = qw(bin refbin need_bin enter_netns start_dnsd stop_dnsd
  queries clear_queries run_rbl tmpdir have_ref);

my $tmp = tempdir('rbl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @daemons;
my $dnsd = dirname(abs_path(__FILE__)) . '/rbl_dnsd.pl';

sub tmpdir { $tmp }
sub bin { my $d = $ENV{UCSPI_BIN} || 'build'; return "$d/$_[0]" }
sub refbin { "/usr/bin/$_[0]" }
sub have_ref { -x refbin('rblsmtpd') }

sub need_bin {
  return if -x bin('rblsmtpd');
  print "1..0 # SKIP rblsmtpd not built yet\n";
  exit 0;
}

# Re-runs the test inside new network and mount namespaces (root, or a
# user namespace mapped to root), with lo up and nothing else: DNS at
# 127.0.0.1:53 is then ours alone, and no query can leave the machine.
sub enter_netns {
  if (($ENV{RBL_NETNS} // '') eq $$) {
    system('ip', 'link', 'set', 'lo', 'up') == 0 or skip_all("cannot bring up lo");
    return;
  }
  my @unshare = ('unshare', '-n', '-m');
  if (system("@unshare true 2>/dev/null") != 0) {
    @unshare = ('unshare', '-r', '-n', '-m');
    skip_all("no private network namespace (unshare -n)")
      if system("@unshare true 2>/dev/null") != 0;
  }
  skip_all("no ip(8) to bring up lo") if system('ip -V >/dev/null 2>&1') != 0;
  # Inside, the shell's pid (then perl's) marks the namespaced run.
  exec @unshare, '--', 'sh', '-c', 'RBL_NETNS=$$ exec "$@"', 'sh', $^X, $0, @ARGV;
  die "exec unshare: $!";
}

sub skip_all { print "1..0 # SKIP $_[0]\n"; exit 0 }

# Starts the responder with ZONE (text) on ADDR (default 127.0.0.1),
# port 53; returns its log file name.
sub start_dnsd {
  my ($zone, $addr) = @_;
  $addr //= '127.0.0.1';
  my $n = scalar @daemons;
  my $zf = "$tmp/zone$n";
  my $log = "$tmp/queries$n";
  open my $fh, '>', $zf or die "$zf: $!";
  print $fh $zone;
  close $fh;
  open my $lf, '>', $log or die "$log: $!";
  close $lf;
  pipe(my $r, my $w) or die "pipe: $!";
  my $pid = fork // die "fork: $!";
  if (!$pid) {
    close $r;
    open STDOUT, '>&', $w;
    open STDIN, '<', '/dev/null';
    exec $^X, $dnsd, $zf, $log, $addr, 53;
    exit 127;
  }
  close $w;
  push @daemons, $pid;
  my $line = line_within($r, 10);
  die "rbl_dnsd.pl did not start\n" unless defined $line && $line =~ /^port 53/;
  return $log;
}

sub stop_dnsd {
  for my $pid (@daemons) {
    kill 'TERM', $pid;
    waitpid($pid, 0);
  }
  @daemons = ();
}

END { local $?; stop_dnsd() }

# The queries logged so far ("name TYPE" lines).
sub queries {
  my ($log) = @_;
  open my $fh, '<', $log or return ();
  chomp(my @q = <$fh>);
  return @q;
}

sub clear_queries { open my $fh, '>', $_[0] or die; close $fh }

# run_rbl(PROGRAM, [ARGS], {ENV}, INPUT[, TIMEOUT]) runs PROGRAM ARGS with
# exactly the environment ENV (plus PATH), INPUT on stdin; returns a hash
# with out, err, status (exit code, or 128+signal), seconds.
sub run_rbl {
  my ($prog, $args, $env, $input, $limit) = @_;
  $limit //= 20;
  my $in = "$tmp/in";
  open my $fh, '>', $in or die;
  print $fh $input // '';
  close $fh;
  my $err = gensym;
  my $start = time;
  my $pid;
  {
    local %ENV = (PATH => '/bin:/usr/bin', %$env);
    open my $stdin, '<', $in or die;
    $pid = open3('<&' . fileno($stdin), my $out, $err, $prog, @$args);
    local $/;
    my ($o, $e);
    eval {
      local $SIG{ALRM} = sub { die "timeout\n" };
      alarm $limit;
      $o = <$out>;
      $e = <$err>;
      waitpid($pid, 0);
      alarm 0;
    };
    if ($@) {
      kill 'KILL', $pid;
      waitpid($pid, 0);
      return { out => $o // '', err => $e // '', status => -1,
               seconds => time - $start };
    }
    my $st = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    $e //= '';
    $e =~ s/ pid \d+:/ pid PID:/g;
    return { out => $o // '', err => $e, status => $st,
             seconds => time - $start };
  }
}

1;
