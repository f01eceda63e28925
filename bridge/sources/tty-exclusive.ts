/**
 * Exclusive use of a serial port, and who else has it. The binding's lock (flock) only keeps out
 * programs that also lock; `cat /dev/ttyACM0` does not, and took every line from under the bridge.
 * TIOCEXCL makes the kernel refuse any further open of the tty (EBUSY) to everyone but root.
 * Node has no ioctl, and a native addon would have to be compiled on every Pi; perl is part of
 * every Debian system (perl-base is essential), so a one-line perl child, given the port's
 * descriptor as its standard input, sets the flag on the tty (it belongs to the tty, not to the
 * descriptor, and lasts until the bridge closes it).
 * Programs that had the port open before the bridge are found in /proc and named.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';

/** TIOCEXCL on the architectures that use the generic ioctl numbers (x86, ARM, RISC-V, s390). */
const TIOCEXCL: Partial<Record<string, number>> = { x64: 0x540c, ia32: 0x540c, arm: 0x540c, arm64: 0x540c, riscv64: 0x540c, s390x: 0x540c, loong64: 0x540c, mips: 0x740d, mipsel: 0x740d, mips64el: 0x740d };

/** Sets TIOCEXCL on the tty open as `fd`; resolves with why it could not, or undefined. */
export function setExclusive(fd: number): Promise<string | undefined> {
  const request = TIOCEXCL[process.arch];
  if (process.platform !== 'linux' || request === undefined) return Promise.resolve(`exclusive access (TIOCEXCL) is not known on ${process.platform}/${process.arch}`);
  return new Promise((resolve) => {
    let err = '';
    const child = spawn('perl', ['-e', 'ioctl(STDIN, $ARGV[0], 0) or die "$!\\n"', String(request)], { stdio: [fd, 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? 'perl is not installed, so the port cannot be made exclusive (TIOCEXCL)' : e.message));
    child.once('exit', (code) => resolve(code === 0 ? undefined : `TIOCEXCL failed: ${err.trim() || `exit ${code}`}`));
  });
}

export interface Holder {
  readonly pid: number;
  readonly command: string;
}

/**
 * Other processes that have the device open, as far as this user may see (/proc/PID/fd of other
 * users' processes is readable only by root). The far end of a pseudo-terminal (the holder of its
 * master, such as socat) is the board's side, not a second reader, and is left out.
 */
export function otherHolders(device: string): Holder[] {
  let real: string;
  try {
    real = realpathSync(device);
  } catch {
    return [];
  }
  const ptyIndex = /^\/dev\/pts\/(\d+)$/.exec(real)?.[1];
  const holders: Holder[] = [];
  for (const entry of safeList('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let holds = false;
    let farEnd = false;
    for (const fd of safeList(`/proc/${pid}/fd`)) {
      const target = safeLink(`/proc/${pid}/fd/${fd}`);
      if (target === real) holds = true;
      else if (ptyIndex !== undefined && target === '/dev/ptmx' && new RegExp(`^tty-index:\\s*${ptyIndex}$`, 'm').test(safeRead(`/proc/${pid}/fdinfo/${fd}`))) farEnd = true;
    }
    if (holds && !farEnd) holders.push({ pid, command: safeRead(`/proc/${pid}/comm`).trim() || '?' });
  }
  return holders;
}

export function describeHolders(holders: readonly Holder[]): string {
  return holders.map((h) => `${h.command} (pid ${h.pid})`).join(', ');
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
