import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';

// The CLI as a user runs it: a separate node process on fixture files. The build (tsc -p
// tsconfig.build.json) compiles the whole tree, which may hold other work in progress, so this test
// transpiles just bin/ocpi.ts and the modules it imports into a temporary directory.

const root = path.resolve(__dirname, '../../..');
const fixture = (name: string) => path.join(__dirname, 'fixtures', name);
let outDir: string;

function transpileTree(entry: string): void {
  const pending = [entry];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
      fileName: file,
    });
    const target = path.join(outDir, path.relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, outputText);
    for (const m of source.matchAll(/from '(\.[^']+)'/g))
      pending.push(path.resolve(path.dirname(file), `${m[1]}.ts`));
  }
}

beforeAll(() => {
  outDir = mkdtempSync(path.join(tmpdir(), 'ocpi-cli-'));
  transpileTree(path.join(root, 'bin/ocpi.ts'));
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(outDir, 'bin/ocpi.js'), ...args],
      { env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('ocpi CLI', () => {
  it('price prints OCPI-shaped cost fields with exact JSON numbers and our lines', async () => {
    const { code, stdout, stderr } = await run(
      'price',
      fixture('tariff-parking.json'),
      fixture('cdr-parking.json'),
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The numbers are written from the decimal strings: 7.00, not 7.
    expect(stdout).toContain('"excl_vat": 7.00');
    const out = JSON.parse(stdout);
    expect(out.total_cost).toEqual({ excl_vat: 7, incl_vat: 7.9 });
    expect(out.total_parking_cost).toEqual({ excl_vat: 1.5, incl_vat: 1.8 });
    expect(out.total_energy).toBe(20);
    expect(out.lines.map((l: { dimension: string; kind: string }) => `${l.dimension} ${l.kind}`)).toEqual([
      'FLAT usage',
      'ENERGY usage',
      'PARKING_TIME usage',
      'PARKING_TIME step',
    ]);
  });

  it('price takes bare periods with --end, and the platform definition JSON as the tariff', async () => {
    const { code, stdout } = await run(
      'price',
      fixture('definition-time-of-use.json'),
      fixture('periods.json'),
      '--tz',
      'Europe/Amsterdam',
      '--end',
      '2025-01-06T11:10:00Z',
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    // 20 kWh before 17:00 local at 0.30, +21% VAT; parking is not priced by this tariff.
    expect(out.total_cost).toEqual({ excl_vat: 6, incl_vat: 7.26 });
    expect(out.total_time).toBeCloseTo(2.166667, 6);
  });

  it('price says which end it assumed for bare periods without --end', async () => {
    const { code, stdout } = await run('price', fixture('tariff-parking.json'), fixture('periods.json'));
    expect(code).toBe(0);
    expect(JSON.parse(stdout).notes.join(' ')).toMatch(/No session end given.*2025-01-06T11:10:00\.120Z/);
  });

  it('verify exits 0 when the CDR agrees', async () => {
    const { code, stdout } = await run('verify', fixture('tariff-parking.json'), fixture('cdr-parking.json'));
    expect(stdout).toMatch(/^OK/m);
    expect(code).toBe(0);
  });

  it('verify lists each difference with the lines and periods involved and exits 1', async () => {
    const { code, stdout } = await run(
      'verify',
      fixture('tariff-parking.json'),
      fixture('cdr-parking-unrounded-parking.json'),
      '--tz',
      'Europe/Amsterdam',
    );
    expect(code).toBe(1);
    expect(stdout).toContain('4 difference(s)');
    expect(stdout).toContain('- total_parking_cost.excl_vat: the CDR states 1.33, the tariff gives 1.50');
    expect(stdout).toMatch(/PARKING_TIME step \(element 0\): 0\.08\d+ h x 2 = 0\.17/);
    expect(stdout).toContain('periods #1 (2025-01-06T10:30:00.000Z)');
  });

  it.each([
    [
      ['price', fixture('tariff-price-as-string.json'), fixture('cdr-parking.json')],
      /elements\[0\]\.price_components\[0\]\.price: must be a JSON number/,
    ],
    [['price', fixture('tariff-parking.json'), fixture('does-not-exist.json')], /cannot read \(ENOENT\)/],
    [
      ['price', fixture('tariff-parking.json'), fixture('cdr-parking.json'), '--tz', 'Mars/Olympus'],
      /--tz: "Mars\/Olympus" is not an IANA time zone/,
    ],
    [['verify', fixture('tariff-parking.json'), fixture('periods.json')], /verify needs a whole CDR/],
    [['frobnicate'], /usage:/],
  ])('bad input %# exits 2 with a message naming the problem, no stack trace', async (args, message) => {
    const { code, stdout, stderr } = await run(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});
