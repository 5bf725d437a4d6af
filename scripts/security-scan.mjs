// Electron's security checklist, checked by @doyensec/electronegativity on the shell and
// the page. Every HIGH or MEDIUM finding must be fixed or explained in
// security/electronegativity-explained.json; anything else fails `npm test`.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const work = mkdtempSync(join(tmpdir(), 'nc-scan-'));
const out = join(work, 'findings.csv');
try {
  cpSync('electron/shell', join(work, 'src', 'shell'), { recursive: true });
  cpSync('renderer/index.html', join(work, 'src', 'index.html'));
  const electron = JSON.parse(readFileSync('node_modules/electron/package.json', 'utf8')).version;
  execFileSync(process.execPath, ['node_modules/@doyensec/electronegativity/dist/index.js', '-i', join(work, 'src'), '-r', '-e', electron, '-o', out], { stdio: 'ignore', timeout: 120_000 });
  const explained = JSON.parse(readFileSync('security/electronegativity-explained.json', 'utf8'));
  const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1).filter(Boolean);
  const findings = rows.map((r) => {
    const [check, severity, confidence, file, location] = csvCells(r);
    return { check, severity, confidence, file, location };
  });
  const open = findings.filter((f) => (f.severity === 'HIGH' || f.severity === 'MEDIUM') && !explained.some((e) => e.check === f.check && e.file === f.file));
  console.log(`electronegativity (Electron ${electron}): ${findings.length} findings, ${findings.length - open.length} fixed-or-explained, ${open.length} open`);
  for (const f of findings) {
    const why = explained.find((e) => e.check === f.check && e.file === f.file);
    console.log(`  ${f.severity.padEnd(6)} ${f.check} ${f.file}:${f.location}${why ? '  (explained)' : ''}`);
  }
  if (open.length) {
    console.error('security scan: unexplained HIGH/MEDIUM findings above; fix them or explain them in security/electronegativity-explained.json');
    process.exit(1);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** One CSV line's cells: quoted cells may hold commas and doubled quotes. */
function csvCells(line) {
  const cells = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      cells.push(cur.trim());
      cur = '';
    } else {
      cur += c;
    }
  }
  cells.push(cur.trim());
  return cells;
}
