import fc from 'fast-check';

/**
 * Values an attacker or a confused script would send. The sentinel paths let the run
 * prove afterwards that nothing escaped: if any of them exists, a shell or a path
 * check failed somewhere.
 */
export const SENTINEL = `nc-fuzz-pwned-${process.pid}`;
export const sentinelPaths = (dataDir: string) => [`/tmp/${SENTINEL}`, `${dataDir}/../${SENTINEL}`, `/${SENTINEL}`];

export function hostileStrings(dataDir: string, symlinkOut: string): string[] {
  return [
    '',
    ' ',
    'a'.repeat(1024 * 1024),
    '../../etc',
    '../../../../../../etc/passwd',
    '..',
    '.',
    '/',
    '/etc/passwd',
    '/etc/shadow',
    `$(touch /tmp/${SENTINEL})`,
    `\`touch /tmp/${SENTINEL}\``,
    `;touch /tmp/${SENTINEL}`,
    `| touch /tmp/${SENTINEL}`,
    `&& touch /tmp/${SENTINEL}`,
    ';rm -rf /',
    `../${SENTINEL}`,
    `${dataDir}/../${SENTINEL}`,
    `/${SENTINEL}`,
    symlinkOut,
    `${symlinkOut}/${SENTINEL}`,
    'name\u0000with-nul',
    'line\nbreak',
    '\u001b[31mred',
    'ünïcödé-名前-🚀',
    '\u202eevil',
    'process:',
    'process:000000000000',
    'kvm:x',
    // Every driver's id with a path in it: a local id must never reach a file name or an engine URL as a path.
    ...['process', 'kvm', 'container', 'containerd', 'kata-containers', 'libvirt'].flatMap((d) => [`${d}:../../etc`, `${d}:..`, `${d}:../${SENTINEL}`, `${d}:a/../../b`, `${d}:%2e%2e%2f`, `${d}:x\u0000y`]),
    ':',
    '%2e%2e%2f',
    'CON',
    '-rf',
    '--help',
    '{"__proto__":{"polluted":1}}',
    '__proto__',
    'constructor',
  ];
}

export const hostileNumbers = [0, -1, -0, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 0.5, NaN, Infinity, -Infinity];

export const anyValue = (strings: string[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...strings) },
    { weight: 2, arbitrary: fc.constantFrom(...hostileNumbers) },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined, [], {}, [[]], { length: 1 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  );
