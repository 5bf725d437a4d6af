import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Test guests for the VM drivers (kvm, libvirt, the UI), built from Debian packages in the
 * test setup and cached under the temp dir (built under a temp name and renamed, so
 * suites running side by side never see half a guest). Nothing is downloaded.
 */
const CACHE = join(tmpdir(), 'novacron-test-assets');

export const BOOT_BANNER = 'NOVACRON BOOT OK';
export const LINUX_BANNER = 'NOVACRON LINUX OK';
/** What the Linux guest prints when its ACPI power button is pressed, just before it powers off. */
export const LINUX_POWEROFF = 'NOVACRON POWERING OFF';
/** The VGA text colours the boot sector paints (nominal; QEMU's DAC gives them within a few steps): a blue screen, yellow text. */
export const BOOT_SCREEN = { background: [0, 0, 0xaa], text: [0xff, 0xff, 0x55] } as const;

/**
 * A boot sector (16-bit real mode, GNU as): sets up COM1, paints the VGA text screen blue,
 * prints the banner on both, then echoes every byte it receives on the serial line, to
 * the serial line and the screen, halting between bytes.
 */
const BOOT_S = `
.code16
.globl _start
_start:
  cli
  xor %ax, %ax
  mov %ax, %ds
  mov %ax, %ss
  mov $0x7c00, %sp
  mov $0xb800, %ax
  mov %ax, %es
  mov $0x3f9, %dx; xor %al, %al; out %al, %dx
  mov $0x3fb, %dx; mov $0x80, %al; out %al, %dx
  mov $0x3f8, %dx; mov $1, %al; out %al, %dx
  mov $0x3f9, %dx; xor %al, %al; out %al, %dx
  mov $0x3fb, %dx; mov $3, %al; out %al, %dx
  mov $0x3fa, %dx; mov $0xc7, %al; out %al, %dx
  xor %di, %di
  mov $0x1f20, %ax
  mov $2000, %cx
  rep stosw
  mov $banner, %si
  xor %di, %di
1: lodsb
  test %al, %al
  jz 2f
  call putc
  jmp 1b
2: mov $160, %di
  /* Echo on the UART's receive interrupt (IRQ4, vector 0x0c) and halt in between: an idle guest costs no CPU. */
  movw $isr, 0x30
  movw $0, 0x32
  in $0x21, %al
  and $0xef, %al
  out %al, $0x21
  mov $0x3fc, %dx; mov $0x0b, %al; out %al, %dx
  mov $0x3f9, %dx; mov $1, %al; out %al, %dx
  sti
idle:
  hlt
  jmp idle
isr:
  push %ax
  push %dx
6: mov $0x3fd, %dx
  in %dx, %al
  test $1, %al
  jz 7f
  mov $0x3f8, %dx
  in %dx, %al
  call putc
  jmp 6b
7: mov $0x20, %al
  out %al, $0x20
  pop %dx
  pop %ax
  iret
putc:
  push %ax
  mov $0x3fd, %dx
4: in %dx, %al
  test $0x20, %al
  jz 4b
  pop %ax
  mov $0x3f8, %dx
  out %al, %dx
  cmp $0x20, %al
  jb 5f
  mov $0x1e, %ah
  stosw
5: ret
banner: .asciz "${BOOT_BANNER}\\r\\n"
.org 510
.word 0xaa55
`;

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** Build into dir under a temp name and rename it into place; the loser of a race uses the winner's. */
function cached(name: string, build: (tmp: string) => void): string {
  const dir = join(CACHE, name);
  if (existsSync(join(dir, '.done'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  build(tmp);
  writeFileSync(join(tmp, '.done'), '');
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

export function bootSectorWhy(): string | undefined {
  for (const bin of ['/usr/bin/as', '/usr/bin/ld', '/usr/bin/objcopy']) if (!existsSync(bin)) return `binutils is not installed (${bin} missing)`;
  return undefined;
}

/**
 * The boot-sector guest as a raw disk image (the 512-byte sector, padded to 1 MiB because
 * SeaBIOS will not read a disk of a single sector). Starts in ~150 ms under TCG.
 */
export function bootSectorImage(): string {
  const dir = cached(`bootsector-${hash(BOOT_S)}`, (tmp) => {
    writeFileSync(join(tmp, 'boot.S'), BOOT_S);
    execFileSync('as', ['--32', '-o', join(tmp, 'boot.o'), join(tmp, 'boot.S')]);
    execFileSync('ld', ['-m', 'elf_i386', '-Ttext', '0x7c00', '-e', '_start', '-o', join(tmp, 'boot.elf'), join(tmp, 'boot.o')]);
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', join(tmp, 'boot.elf'), join(tmp, 'boot.bin')]);
    copyFileSync(join(tmp, 'boot.bin'), join(tmp, 'boot.img'));
    truncateSync(join(tmp, 'boot.img'), 1024 * 1024);
  });
  return join(dir, 'boot.img');
}

/** Kernel modules the Linux guest loads: virtio PCI and the balloon (scaling), evdev and the ACPI button (graceful stop). */
const MODULES = [
  'drivers/virtio/virtio_ring.ko',
  'drivers/virtio/virtio.ko',
  'drivers/virtio/virtio_pci_legacy_dev.ko',
  'drivers/virtio/virtio_pci_modern_dev.ko',
  'drivers/virtio/virtio_pci.ko',
  'drivers/virtio/virtio_balloon.ko',
  'drivers/input/evdev.ko',
  'drivers/acpi/button.ko',
  'drivers/char/virtio_console.ko',
  'net/core/failover.ko',
  'drivers/net/net_failover.ko',
  'drivers/net/virtio_net.ko',
];

/** Debian's QEMU guest agent (qemu-guest-agent), run in the guest when the host has it: it reports the NIC's byte counters. */
const QEMU_GA = '/usr/sbin/qemu-ga';

const INIT = `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${MODULES.map((m) => m.split('/').pop()!.replace('.ko', '')).join(' ')}; do insmod /lib/modules/$m.ko 2>/dev/null; done
mkdir -p /etc/acpi/PWRF
printf '#!/bin/sh\\necho ${LINUX_POWEROFF} > /dev/ttyS0\\npoweroff -f\\n' > /etc/acpi/PWRF/00000080
chmod +x /etc/acpi/PWRF/00000080
acpid -c /etc/acpi -l /tmp/acpid.log -p /tmp/acpid.pid
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0 2>/dev/null
ip link set eth0 up 2>/dev/null
mkdir -p /var/run
for p in /sys/class/virtio-ports/*; do
  [ "$(cat $p/name 2>/dev/null)" = org.qemu.guest_agent.0 ] && [ -x /usr/sbin/qemu-ga ] && /usr/sbin/qemu-ga -d -m virtio-serial -p /dev/$(basename $p) -t /var/run
done
echo "${LINUX_BANNER}" > /dev/tty1
echo "${LINUX_BANNER}" > /dev/ttyS0
exec setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'
`;

const LINUX_APPLETS = ['sh', 'mount', 'echo', 'cat', 'ls', 'sleep', 'setsid', 'insmod', 'poweroff', 'stty', 'mkdir', 'grep', 'uname', 'free', 'ps', 'acpid', 'printf', 'chmod', 'rm', 'true', 'dd', 'ip', 'ping', 'basename', '['];

function kernelPath(): string | undefined {
  const k = existsSync('/boot') ? readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')).sort().pop() : undefined;
  return k ? join('/boot', k) : undefined;
}

/** A dynamically linked program and the shared libraries ldd names, at the same paths under root. */
function copyWithLibraries(program: string, root: string): void {
  const files = [program];
  for (const line of execFileSync('ldd', [program]).toString().split('\n')) {
    const m = /(\/\S+) \(0x/.exec(line);
    if (m) files.push(m[1]!);
  }
  for (const f of files) {
    mkdirSync(join(root, dirname(f)), { recursive: true });
    copyFileSync(f, join(root, f));
  }
}

/** Whether the tiny Linux runs the QEMU guest agent (Debian's qemu-guest-agent installed on the host), or why not. */
export function guestAgentWhy(): string | undefined {
  return existsSync(QEMU_GA) ? undefined : `qemu-guest-agent is not installed (${QEMU_GA} missing)`;
}

export function tinyLinuxWhy(): string | undefined {
  if (!kernelPath()) return 'linux-image-amd64 is not installed (no /boot/vmlinuz-*)';
  if (!existsSync('/bin/busybox')) return 'busybox-static is not installed (/bin/busybox missing)';
  if (!existsSync('/usr/bin/cpio')) return 'cpio is not installed';
  return undefined;
}

/**
 * A tiny Linux: Debian's kernel and an initramfs of static busybox whose init prints a
 * banner on ttyS0 and tty1 and then runs a shell on the serial line. Boot it with
 * -kernel/-initrd and `console=ttyS0 quiet` under TCG: a shell in ~5–7 s.
 */
export function tinyLinux(): { kernel: string; initrd: string; append: string } {
  const kernel = kernelPath()!;
  const version = kernel.slice('/boot/vmlinuz-'.length);
  const agent = existsSync(QEMU_GA);
  const dir = cached(`tinylinux-${hash(INIT + version + LINUX_APPLETS.join() + MODULES.join() + String(agent))}`, (tmp) => {
    const root = join(tmp, 'root');
    for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'root', 'etc', 'lib/modules']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
    for (const a of LINUX_APPLETS) symlinkSync('busybox', join(root, 'bin', a));
    for (const m of MODULES) {
      const src = join('/lib/modules', version, 'kernel', m);
      if (existsSync(src)) copyFileSync(src, join(root, 'lib', 'modules', m.split('/').pop()!));
    }
    if (agent) copyWithLibraries(QEMU_GA, root);
    writeFileSync(join(root, 'init'), INIT);
    chmodSync(join(root, 'init'), 0o755);
    const files = execFileSync('find', ['.'], { cwd: root }).toString();
    const cpio = execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: root, input: files, maxBuffer: 64 * 1024 * 1024 });
    writeFileSync(join(tmp, 'initrd.cpio'), cpio);
    rmSync(root, { recursive: true, force: true });
  });
  return { kernel, initrd: join(dir, 'initrd.cpio'), append: 'console=ttyS0 quiet' };
}
