import { describe, expect, it } from 'vitest';
import { libvirtCreateSchema } from '../../shared/drivers/libvirt.js';
import { fieldErrors } from '../../shared/validate.js';
import { parseDisplay } from '../../electron/core/drivers/libvirt/console.js';
import { explain, parseCapabilities, parseVersion } from '../../electron/core/drivers/libvirt/detect.js';
import { parseDomstats, parseUuidNames, stateOf, summaryOf } from '../../electron/core/drivers/libvirt/domains.js';
import { domainXml, parseDomain, type DomainPlan } from '../../electron/core/drivers/libvirt/domxml.js';
import { jobProgress, parseJobInfo } from '../../electron/core/drivers/libvirt/jobs.js';
import { sampleOf } from '../../electron/core/drivers/libvirt/metrics.js';
import { checkTarget } from '../../electron/core/drivers/libvirt/migrate.js';
import { parseSnapshotList } from '../../electron/core/drivers/libvirt/snapshots.js';
import { classify, isRemoteUri, uriHost, virshMessage, VirshError } from '../../electron/core/drivers/libvirt/virsh.js';
import { parseXml, parseXmlFragments, writeXml, x, XmlError } from '../../electron/core/drivers/libvirt/xml.js';
import { libvirtFlags } from '../../electron/cli/create-flags/libvirt.js';

describe('the XML reader and writer', () => {
  it('reads elements, attributes in either quotes, entities, CDATA, comments and declarations', () => {
    const el = parseXml(`<?xml version="1.0"?>\n<!DOCTYPE domain>\n<!-- a <comment> -->
      <domain type='qemu' id="3"><name>a &amp; b &#x263A; &#65;</name><empty/><desc><![CDATA[<raw> & ]]>tail</desc></domain>`);
    expect(el.name).toBe('domain');
    expect(el.attrs).toEqual({ type: 'qemu', id: '3' });
    expect(el.children.map((c) => c.name)).toEqual(['name', 'empty', 'desc']);
    expect(el.children[0]!.text).toBe('a & b ☺ A');
    expect(el.children[2]!.text).toBe('<raw> & tail');
  });

  it('refuses what is not well formed, saying where', () => {
    for (const bad of ['<a><b></a>', '<a>', '<a x="1" x="2"/>', '<a>&bogus;</a>', '<a/><b/>', 'text', '<a x=1/>', '<a>&amp</a>']) {
      expect(() => parseXml(bad), bad).toThrow(XmlError);
    }
  });

  it('reads several documents one after another', () => {
    expect(parseXmlFragments('<a/>\n<b><c/></b>\n').map((e) => e.name)).toEqual(['a', 'b']);
  });

  it('escapes every value it writes: a name cannot change the document', () => {
    const evil = `x'/><devices><disk file='/etc/shadow'/></devices><name>"&`;
    const out = writeXml(x('domain', { type: 'qemu' }, x('name', undefined, evil), x('source', { file: evil })));
    const back = parseXml(out);
    expect(back.children.map((c) => c.name)).toEqual(['name', 'source']);
    expect(back.children[0]!.text).toBe(evil);
    expect(back.children[1]!.attrs.file).toBe(evil);
    expect(() => writeXml(x('name', undefined, 'a\u0001b'))).toThrow(XmlError);
  });
});

const plan: DomainPlan = {
  uuid: '11111111-2222-3333-4444-555555555555',
  name: 'web',
  accel: 'tcg',
  memoryMB: 512,
  cpus: 2,
  machine: 'q35',
  disks: [
    { path: '/data/libvirt/1111/d0.qcow2', format: 'qcow2' },
    { path: "/srv/it's <mine>.img", format: 'raw' },
  ],
  iso: '/srv/debian.iso',
  network: 'user',
  dir: '/data/libvirt/1111',
  vncSocket: '/data/libvirt/1111/vnc.sock',
  directIo: true,
  dacLabel: '+0:+0',
  meta: { createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'cli', node: 'host1' },
};

describe('the domain XML of a new domain', () => {
  it('describes the form faithfully, and reads back as the same domain', () => {
    const xml = domainXml(plan);
    expect(xml).toMatch(/^<domain type='qemu'>/);
    const f = parseDomain(xml);
    expect(f).toMatchObject({
      uuid: plan.uuid,
      name: 'web',
      type: 'qemu',
      memoryKiB: 512 * 1024,
      vcpus: 2,
      machine: 'q35',
      interfaces: ['user'],
      serialLog: '/data/libvirt/1111/serial.log',
      hasNvram: false,
      nova: { createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'cli', node: 'host1', dir: '/data/libvirt/1111' },
    });
    expect(f.disks).toEqual([
      { device: 'disk', type: 'file', path: '/data/libvirt/1111/d0.qcow2', format: 'qcow2', target: 'vda', readonly: false },
      { device: 'disk', type: 'file', path: "/srv/it's <mine>.img", format: 'raw', target: 'vdb', readonly: false },
      { device: 'cdrom', type: 'file', path: '/srv/debian.iso', format: 'raw', target: 'sda', readonly: true },
    ]);
    expect(f.graphics).toEqual([{ type: 'vnc', socket: '/data/libvirt/1111/vnc.sock' }]);
    // cache='none' only on NovaCron's own disks; the CD boots first; QEMU runs as the data dir's owner.
    expect(xml).toContain("<driver name='qemu' type='qcow2' cache='none'/>");
    expect(xml).toContain("<driver name='qemu' type='raw'/>");
    expect(xml).toMatch(/<target dev='sda' bus='sata'\/>\s*<readonly\/>\s*<boot order='1'\/>/);
    expect(xml).toMatch(/<target dev='vda' bus='virtio'\/>\s*<boot order='2'\/>/);
    expect(xml).toContain("<seclabel type='static' model='dac' relabel='no'>");
    expect(xml).toContain("name='org.qemu.guest_agent.0'");
  });

  it('boots a kernel directly, with IDE for the CD on i440fx, kvm type, and VNC on 127.0.0.1 without a socket', () => {
    const { vncSocket: _v, dacLabel: _d, ...rest } = plan;
    const xml = domainXml({ ...rest, accel: 'kvm', machine: 'pc', kernel: '/boot/vmlinuz', initrd: '/boot/initrd', append: 'console=ttyS0 quiet', network: 'none' });
    const f = parseDomain(xml);
    expect(f).toMatchObject({ type: 'kvm', kernel: '/boot/vmlinuz', initrd: '/boot/initrd', cmdline: 'console=ttyS0 quiet', interfaces: [] });
    expect(f.disks.find((d) => d.device === 'cdrom')?.target).toBe('hdc');
    expect(xml).not.toContain('<boot ');
    expect(f.graphics).toEqual([{ type: 'vnc', listen: '127.0.0.1' }]);
    expect(xml).not.toContain('seclabel');
  });

  it('reads a live domain: the console PTY, a VNC port, a disk of another type, an NVRAM', () => {
    const f = parseDomain(`<domain type='kvm' id='5'><name>vm</name><uuid>u</uuid><memory unit='GiB'>2</memory><vcpu placement='static'>4</vcpu>
      <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><nvram>/var/lib/libvirt/qemu/nvram/vm_VARS.fd</nvram></os>
      <devices><disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/vg/vm'/><target dev='vda'/></disk>
      <interface type='network'/><serial type='pty'><source path='/dev/pts/7'/></serial><console type='pty' tty='/dev/pts/7'/>
      <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics></devices></domain>`);
    expect(f).toMatchObject({ memoryKiB: 2 * 1024 * 1024, vcpus: 4, consolePty: '/dev/pts/7', hasNvram: true, interfaces: ['network'] });
    expect(f.nova).toBeUndefined();
    expect(f.disks[0]).toMatchObject({ type: 'block', path: '/dev/vg/vm' });
    expect(f.graphics).toEqual([{ type: 'vnc', port: 5901, listen: '127.0.0.1' }]);
  });
});

describe("reading virsh's output", () => {
  it('parses bulk domstats, keyed by domain name (quotes and all)', () => {
    const m = parseDomstats("Domain: 'a'\n  state.state=1\n  cpu.time=100\n\nDomain: 'it's b'\n  state.state=5\n  state.reason=3\n");
    expect([...m.keys()]).toEqual(['a', "it's b"]);
    expect(m.get('a')).toEqual({ 'state.state': '1', 'cpu.time': '100' });
  });

  it('parses list --uuid --name, names with spaces included', () => {
    expect(parseUuidNames('6392D125-733b-4787-a6fe-27fd27348af9 my vm\n\n191f8511-7dca-4219-a389-b36424f9eb47 x\n')).toEqual([
      { uuid: '6392d125-733b-4787-a6fe-27fd27348af9', name: 'my vm' },
      { uuid: '191f8511-7dca-4219-a389-b36424f9eb47', name: 'x' },
    ]);
  });

  it("maps every libvirt state and reason to ours", () => {
    const s = (state: string, reason = '0') => stateOf({ 'state.state': state, 'state.reason': reason });
    expect(s('1').state).toBe('running');
    expect(s('2').state).toBe('running');
    expect(s('4').state).toBe('running');
    expect(s('3').state).toBe('paused');
    expect(s('7').state).toBe('paused');
    expect(s('5', '1')).toEqual({ state: 'stopped', exit: { reason: 'shut down' } });
    expect(s('5', '4')).toEqual({ state: 'stopped', exit: { reason: 'migrated away' } });
    expect(s('5', '3')).toEqual({ state: 'crashed', exit: { reason: 'crashed' } });
    expect(s('5', '6')).toEqual({ state: 'crashed', exit: { reason: 'failed to start' } });
    expect(s('5', '0')).toEqual({ state: 'stopped' });
    expect(s('6', '1')).toEqual({ state: 'crashed', exit: { reason: 'the guest panicked' } });
    expect(s('0').state).toBe('unknown');
    expect(stateOf(undefined).state).toBe('unknown');
    expect(summaryOf(undefined, { 'vcpu.maximum': '2', 'balloon.maximum': '1048576' })).toBe('2 vCPU · 1024 MiB');
  });

  it('turns a domstats block into a sample: CPU time, RSS against the balloon, summed block and net bytes', () => {
    const s = sampleOf(
      { 'cpu.time': '2000000000', 'balloon.current': '32768', 'balloon.rss': '40000', 'block.count': '2', 'block.0.rd.bytes': '10', 'block.0.wr.bytes': '1', 'block.1.rd.bytes': '5', 'net.count': '1', 'net.0.rx.bytes': '7', 'net.0.tx.bytes': '8' },
      42,
    );
    expect(s).toMatchObject({ ts: 42, cpuNs: 2e9, memoryBytes: 40000 * 1024, memoryLimitBytes: 32768 * 1024, diskReadBytes: 15, diskWriteBytes: 1, netRxBytes: 7, netTxBytes: 8 });
    expect(sampleOf({ 'cpu.time': '1', 'net.count': '0', 'block.count': '0' }, 1)).not.toHaveProperty('netRxBytes');
  });

  it('parses snapshot-list, times with their zone', () => {
    expect(parseSnapshotList(' Name   Creation Time               State\n---------\n s1     2026-11-26 13:37:21 +0000   running\n cold   2026-11-26 15:37:23 +0200   shutoff\n')).toEqual([
      { name: 's1', createdAt: '2026-11-26T13:37:21.000Z', kind: 'with RAM (running)' },
      { name: 'cold', createdAt: '2026-11-26T13:37:23.000Z', kind: 'disk only' },
    ]);
  });

  it('parses domdisplay: a unix socket, a TCP display, a bracketed IPv6 host', () => {
    expect(parseDisplay('vnc+unix:///data/libvirt/u/vnc.sock\n')).toEqual({ kind: 'unix', path: '/data/libvirt/u/vnc.sock' });
    expect(parseDisplay('vnc://127.0.0.1:3\n')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 5903 });
    expect(parseDisplay('vnc://[::1]:0')).toEqual({ kind: 'tcp', host: '::1', port: 5900 });
    expect(parseDisplay('spice://127.0.0.1:5930')).toBeUndefined();
  });

  it('reads domjobinfo --rawstats progress', () => {
    const info = parseJobInfo('Job type: 2\noperation: 5\ndata_total: 1000\ndata_processed: 250\ndata_remaining: 750\nmemory_total: 900\n');
    expect(jobProgress(info)).toEqual({ processed: 250, total: 1000, remaining: 750 });
    expect(jobProgress(parseJobInfo('Job type: 0\n'))).toBeUndefined();
  });

  it('reads versions and capabilities', () => {
    expect(parseVersion('Using library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.22\nRunning against daemon: 9.0.0\n')).toEqual({ libvirt: '9.0.0', daemon: '9.0.0', hypervisor: 'QEMU 7.2.22' });
    const caps = parseCapabilities(`<capabilities><host/><guest><arch name='i686'><machine>isapc</machine></arch></guest>
      <guest><arch name='x86_64'><machine>pc-i440fx-7.2</machine><machine canonical='pc-i440fx-7.2'>pc</machine><domain type='qemu'/><domain type='kvm'><machine>pc-q35-7.2</machine></domain></arch></guest></capabilities>`);
    expect(caps.kvm).toBe(true);
    expect([...caps.machines].sort()).toEqual(['pc', 'pc-i440fx-7.2', 'pc-q35-7.2']);
  });
});

describe("virsh's errors", () => {
  it('keep libvirt’s words and map to our codes by data', () => {
    const msg = virshMessage("error: Failed to undefine domain 'x'\nerror: Requested operation is not valid: cannot delete inactive domain with 1 snapshots\n");
    expect(msg).toBe("Failed to undefine domain 'x': Requested operation is not valid: cannot delete inactive domain with 1 snapshots");
    expect(classify(msg)).toBe('CONFLICT');
    expect(classify("failed to get domain 'nosuch'")).toBe('NOT_FOUND');
    expect(classify('Domain snapshot not found: no domain snapshot with matching name')).toBe('NOT_FOUND');
    expect(classify("failed to connect to the hypervisor: Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory")).toBe('UNAVAILABLE');
    expect(classify('operation aborted: migration out job: canceled by client')).toBe('CANCELLED');
    expect(classify('Timed out during operation: cannot acquire state change lock')).toBe('TIMEOUT');
    expect(classify("unsupported configuration: internal snapshot for disk vda unsupported for storage type raw")).toBe('NOT_SUPPORTED');
    expect(classify('XML error: bad thing')).toBe('INVALID_ARGUMENT');
    expect(classify('internal error: something')).toBe('INTERNAL');
  });

  it('say why the driver cannot connect, in words an admin acts on', () => {
    const e = (stderr: string) => new VirshError('UNAVAILABLE', virshMessage(stderr), stderr);
    expect(explain('qemu:///system', e("error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n")).reason).toMatch(
      /^libvirtd is not running \(nothing listens at \/var\/run\/libvirt\/libvirt-sock\)/,
    );
    expect(explain('qemu:///system', e('error: failed to connect to the hypervisor\nerror: internal error: Unable to get system bus connection: Could not connect: No such file or directory\n')).reason).toMatch(/^permission denied: this user may not manage qemu:\/\/\/system/);
    expect(explain('qemu+ssh://u@h/system', e('error: Cannot recv data: u@h: Permission denied (publickey).: Connection reset by peer\n')).reason).toMatch(/^ssh to h refused the login/);
    expect(explain('qemu:///system', new Error('virsh is not installed (Debian: libvirt-clients)'))).toEqual({ reason: 'virsh is not installed (Debian: libvirt-clients)', absent: true });
  });
});

describe('connection URIs', () => {
  it('tells local from remote, and finds the host', () => {
    for (const u of ['qemu:///system', 'qemu:///session', 'qemu+unix:///system?socket=/x', 'qemu:///system?socket=/run/x']) expect(isRemoteUri(u), u).toBe(false);
    for (const u of ['qemu+ssh://root@h/system', 'qemu+tcp://10.0.0.2:16509/system', 'qemu+ssh://h/system?keyfile=/k']) expect(isRemoteUri(u), u).toBe(true);
    expect(uriHost('qemu+ssh://root@host.example:2222/system')).toBe('host.example');
    expect(uriHost('qemu+tcp://[fe80::1]/system')).toBe('[fe80::1]');
  });

  it('takes only another libvirtd as a migration target', () => {
    expect(checkTarget('qemu+ssh://root@h2/system', 'headless')).toBe('h2');
    expect(checkTarget('qemu+tcp://10.0.0.2:16509/system', 'desktop')).toBe('10.0.0.2');
    for (const bad of ['tcp:h:1', 'qemu:///system', 'qemu+ssh:///system', 'qemu+ssh://h/system; rm -rf /', 'local']) {
      expect(() => checkTarget(bad, 'cli'), bad).toThrow(/to: must be a libvirt URI/);
    }
    // libvirt would run the named program on this host: the admin may say so, the page may not.
    for (const bad of ['qemu+ssh://h/system?command=/tmp/x', 'qemu+ssh://h/system?keyfile=/k&netcat=/tmp/nc']) {
      for (const page of ['desktop', 'headless'] as const) expect(() => checkTarget(bad, page), bad).toThrow(/to: must not name a program/);
      expect(checkTarget(bad, 'cli')).toBe('h');
    }
  });
});

describe('the create form', () => {
  it('is the kvm form: the same fields, the same rules, without incoming', () => {
    const ok = { driver: 'libvirt', name: 'vm', memoryMB: 64, disks: [{ sizeGB: 1 }] };
    expect(libvirtCreateSchema.parse(ok)).toMatchObject({ cpus: 1, network: 'user', machine: 'pc', accel: 'auto', portForwards: [] });
    expect(fieldErrors(libvirtCreateSchema, { ...ok, disks: [] })).toEqual({ disks: 'give a disk, an ISO or a kernel to boot from' });
    expect(fieldErrors(libvirtCreateSchema, { ...ok, append: 'quiet' })).toEqual({ append: 'needs a kernel' });
    expect(fieldErrors(libvirtCreateSchema, { ...ok, incoming: 'tcp:h:1' })).toEqual({ incoming: 'is not a known field' });
    expect(fieldErrors(libvirtCreateSchema, { ...ok, name: 'a/b' })).toEqual({ name: "must not contain '/'" });
  });

  it('reads the kvm CLI flags, leaving out --incoming', () => {
    expect(libvirtFlags.options).not.toHaveProperty('incoming');
    expect(libvirtFlags.toSpec({ memory: '64', 'disk-size': ['2'], base: ['/b.img'], accel: 'tcg' })).toEqual({ memoryMB: 64, disks: [{ sizeGB: 2 }, { base: '/b.img' }], accel: 'tcg' });
  });
});
