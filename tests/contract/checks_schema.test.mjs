// The checks file's JSON Schema (schema/checks.schema.json, 2020-12)
// against the service itself: every example validates and starts, and for
// a table of files the schema and `badges-health --print-config` agree on
// which are acceptable, so a file an editor or CI passes will not stop the
// service for its shape. The service checks more than a schema can say;
// those files are listed apart, each with what the service says.
//
// Run: BADGES_HEALTH_BINARY=build/test/badges-health node --test tests/contract/checks_schema.test.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.join(here, '..', '..');
const schemaPath = path.join(repoRoot, 'schema', 'checks.schema.json');
const examplesDir = path.join(repoRoot, 'examples');
const binary = process.env.BADGES_HEALTH_BINARY;
assert.ok(binary, 'set BADGES_HEALTH_BINARY to the badges-health binary to test');

const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, strictTuples: false, allErrors: true });
const validate = ajv.compile(schema);

const work = mkdtempSync(path.join(tmpdir(), 'badges-health-schema-'));
after(() => rmSync(work, { recursive: true, force: true }));
const caFile = path.join(work, 'ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n');
// What ${NAME} in the files below names.
const variables = { CHECK_HOST: 'db.internal', CHECK_PORT: '5432', CHECK_INTERVAL: '5s', PG: 'host=db' };

let files = 0;
// The service's verdict on a checks file: exit 0 (with every flag that
// lets a file declare exec and ttl checks) or its one-line error.
function service(document) {
  const file = path.join(work, `checks-${files++}.json`);
  writeFileSync(file, typeof document === 'string' ? document : JSON.stringify(document));
  const r = spawnSync(
    binary,
    ['--config', file, '--allow-exec-checks', '--admin-token', 'x', '--print-config'],
    { encoding: 'utf8', timeout: 15_000, env: { PATH: process.env.PATH, ...variables } },
  );
  return { ok: r.status === 0, status: r.status, said: (r.stderr || '').trim() };
}

function schemaSays(document) {
  const ok = validate(document);
  return { ok, errors: ok ? '' : ajv.errorsText(validate.errors) };
}

const one = (check) => ({ checks: [check] });
const tcp = { name: 'db', type: 'tcp', host: '127.0.0.1', port: 5432 };
const with_ = (base, extra) => ({ ...base, ...extra });
const without = (base, key) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key));

// ------------------------------------------------------------ examples

describe('examples', () => {
  const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.json'));
  test('there are examples', () => assert.ok(examples.length >= 3, examples.join(', ')));
  for (const name of examples) {
    test(`${name} names the schema, validates and starts`, () => {
      const document = JSON.parse(readFileSync(path.join(examplesDir, name), 'utf8'));
      assert.equal(document.$schema, '../schema/checks.schema.json');
      const verdict = schemaSays(document);
      assert.ok(verdict.ok, verdict.errors);
      const env = { PG_COMPONENT_PSQL_CONNECTION_STRING: 'host=db', REDIS_HOST: 'redis' };
      Object.assign(variables, env);
      const started = service(document);
      assert.ok(started.ok, started.said);
    });
  }
});

// ------------------------------------------------ files both accept

const accepted = [
  ['no checks at all', { checks: [] }],
  ['a $schema reference', { $schema: '../schema/checks.schema.json', checks: [] }],
  ['tcp with every common field', one(with_(tcp, { critical: false, interval: '5s', timeout: '1s', rise: 1, fall: 5 }))],
  ['durations as numbers of seconds', one(with_(tcp, { interval: 0.5, timeout: 0.2 }))],
  ['durations as bare seconds and minutes', one(with_(tcp, { interval: '2m', timeout: '1.5' }))],
  ['an interval of exactly 100ms', one(with_(tcp, { interval: '100ms' }))],
  ['an interval of 0.1 seconds', one(with_(tcp, { interval: '0.1s' }))],
  ['a port as a string', one(with_(tcp, { port: '5432' }))],
  ['variables in host, port and interval', one(with_(tcp, { host: '${CHECK_HOST}', port: '${CHECK_PORT}', interval: '${CHECK_INTERVAL}' }))],
  ['http with every field of a plain URL', one({ name: 'api', type: 'http', url: 'http://api.internal:8080/health?deep=1', expect_status: [200, '300-302'], warn_status: 429, expect_body: 'ok' })],
  ['https with a CA file and a JSON expectation', one({ name: 'catalyst', type: 'http', url: 'https://peer.decentraland.org/about', ca_file: caFile, cert_warn_days: 30, expect_json: { pointer: '/healthy', equals: true } })],
  ['https insecure', one({ name: 'catalyst', type: 'http', url: 'https://10.0.0.7/about', insecure: true, cert_warn_days: 0 })],
  ['an IPv6 URL', one({ name: 'api', type: 'http', url: 'http://[::1]:8081/', expect_status: '200-299' })],
  ['grpc', one({ name: 'catalyst-grpc', type: 'grpc', host: '10.0.0.7', port: 50051, service: '' })],
  ['grpc over TLS with a CA file', one({ name: 'g', type: 'grpc', host: 'h', port: 443, tls: true, ca_file: caFile })],
  ['postgres', one({ name: 'db', type: 'postgres', conninfo: '${PG}', query: 'SELECT 1' })],
  ['redis with credentials', one({ name: 'cache', type: 'redis', host: 'redis', port: 6380, username: 'u', password: 'p' })],
  ['redis with a password only', one({ name: 'cache', type: 'redis', host: 'redis', password: 'p' })],
  ['file', one({ name: 'maintenance', type: 'file', path: '/etc/badges-health/maintenance', when: 'absent' })],
  ['disk with every threshold', one({ name: 'disk', type: 'disk', path: '/', min_free_bytes: 1000, min_free_percent: 5, warn_free_bytes: 2000, warn_free_percent: 10 })],
  ['disk with a warning only', one({ name: 'disk', type: 'disk', path: '/', warn_free_percent: 10 })],
  ['exec with an environment', one({ name: 'dns', type: 'exec', command: ['/bin/true', '-x'], env: { REGION: 'eu' } })],
  ['ttl', one({ name: 'processor', type: 'ttl', ttl: '30s', critical: true, rise: 1, fall: 2 })],
  ['ttl of a minute in seconds', one({ name: 'processor', type: 'ttl', ttl: 60 })],
];

describe('files the schema and the service both accept', () => {
  for (const [name, document] of accepted) {
    test(name, () => {
      const verdict = schemaSays(document);
      assert.ok(verdict.ok, `schema: ${verdict.errors}`);
      const started = service(document);
      assert.ok(started.ok, `service: ${started.said}`);
    });
  }
});

// ------------------------------------------------ files both refuse

const refused = [
  ['an empty object', {}],
  ['checks not a list', { checks: {} }],
  ['an unknown top-level field', { check: [] }],
  ['$schema not a string', { $schema: 1, checks: [] }],
  ['a check that is not an object', { checks: [1] }],
  ['no name', one(without(tcp, 'name'))],
  ['an uppercase name', one(with_(tcp, { name: 'DB' }))],
  ['a name with a dot', one(with_(tcp, { name: 'db.main' }))],
  ['a name of 65 characters', one(with_(tcp, { name: 'a'.repeat(65) }))],
  ['no type', one(without(tcp, 'type'))],
  ['an unknown type', one(with_(tcp, { type: 'smtp' }))],
  ['an unknown field', one(with_(tcp, { hots: 'x' }))],
  ["another type's field", one(with_(tcp, { url: 'http://x/' }))],
  ['no host', one(without(tcp, 'host'))],
  ['an empty host', one(with_(tcp, { host: '' }))],
  ['port 0', one(with_(tcp, { port: 0 }))],
  ['port 70000', one(with_(tcp, { port: 70000 }))],
  ['port as words', one(with_(tcp, { port: 'x' }))],
  ['port 70000 as a string', one(with_(tcp, { port: '70000' }))],
  ['a negative port', one(with_(tcp, { port: -1 }))],
  ['a fractional port', one(with_(tcp, { port: 1.5 }))],
  ['critical as a string', one(with_(tcp, { critical: 'yes' }))],
  ['rise 0', one(with_(tcp, { rise: 0 }))],
  ['fall 101', one(with_(tcp, { fall: 101 }))],
  ['an interval in words', one(with_(tcp, { interval: 'soon' }))],
  ['an interval of 50ms', one(with_(tcp, { interval: '50ms', timeout: '10ms' }))],
  ['an interval of 0.05 seconds', one(with_(tcp, { interval: 0.05, timeout: 0.01 }))],
  ['an interval of 0.09s', one(with_(tcp, { interval: '0.09s', timeout: '10ms' }))],
  ['a zero timeout', one(with_(tcp, { timeout: '0ms' }))],
  ['a timeout of 0 seconds', one(with_(tcp, { timeout: 0 }))],
  ['a negative timeout', one(with_(tcp, { timeout: -1 }))],
  ['an ftp URL', one({ name: 'api', type: 'http', url: 'ftp://127.0.0.1/health' })],
  ['a URL without a host', one({ name: 'api', type: 'http', url: 'http:///health' })],
  ['credentials in the URL', one({ name: 'api', type: 'http', url: 'http://u:p@api/' })],
  ['ca_file on a plain URL', one({ name: 'api', type: 'http', url: 'http://api/', ca_file: caFile })],
  ['insecure on a plain URL', one({ name: 'api', type: 'http', url: 'http://api/', insecure: true })],
  ['cert_warn_days on a plain URL', one({ name: 'api', type: 'http', url: 'http://api/', cert_warn_days: 3 })],
  ['insecure with a CA file', one({ name: 'api', type: 'http', url: 'https://api/', ca_file: caFile, insecure: true })],
  ['expect_status 2xx', one({ name: 'api', type: 'http', url: 'http://api/', expect_status: '2xx' })],
  ['expect_status with trailing text', one({ name: 'api', type: 'http', url: 'http://api/', expect_status: '200x' })],
  ['expect_status 600', one({ name: 'api', type: 'http', url: 'http://api/', expect_status: 600 })],
  ['an empty expect_status list', one({ name: 'api', type: 'http', url: 'http://api/', expect_status: [] })],
  ['warn_status in words', one({ name: 'api', type: 'http', url: 'http://api/', warn_status: 'slow' })],
  ['expect_json without equals', one({ name: 'api', type: 'http', url: 'https://api/', expect_json: { pointer: '/a' } })],
  ['expect_json with a pointer lacking its slash', one({ name: 'api', type: 'http', url: 'https://api/', expect_json: { pointer: 'healthy', equals: true } })],
  ['expect_json with a bad escape', one({ name: 'api', type: 'http', url: 'https://api/', expect_json: { pointer: '/a~2', equals: true } })],
  ['cert_warn_days negative', one({ name: 'api', type: 'http', url: 'https://api/', cert_warn_days: -1 })],
  ['grpc insecure without tls', one({ name: 'g', type: 'grpc', host: 'h', port: 1, insecure: true })],
  ['grpc ca_file with tls false', one({ name: 'g', type: 'grpc', host: 'h', port: 1, tls: false, ca_file: caFile })],
  ['grpc service of 1025 bytes', one({ name: 'g', type: 'grpc', host: 'h', port: 1, service: 's'.repeat(1025) })],
  ['grpc without a port', one({ name: 'g', type: 'grpc', host: 'h' })],
  ['postgres without conninfo', one({ name: 'db', type: 'postgres' })],
  ['an empty conninfo', one({ name: 'db', type: 'postgres', conninfo: '' })],
  ['an empty query', one({ name: 'db', type: 'postgres', conninfo: 'host=h', query: '' })],
  ['redis username without a password', one({ name: 'c', type: 'redis', host: 'h', username: 'u' })],
  ['redis username with an empty password', one({ name: 'c', type: 'redis', host: 'h', username: 'u', password: '' })],
  ['file when neither present nor absent', one({ name: 'flag', type: 'file', path: '/tmp/x', when: 'exists' })],
  ['file with an empty path', one({ name: 'flag', type: 'file', path: '', when: 'absent' })],
  ['disk without a threshold', one({ name: 'disk', type: 'disk', path: '/' })],
  ['disk at 150 percent', one({ name: 'disk', type: 'disk', path: '/', min_free_percent: 150 })],
  ['disk with negative bytes', one({ name: 'disk', type: 'disk', path: '/', warn_free_bytes: -1 })],
  ['exec with a command line as one string', one({ name: 'x', type: 'exec', command: '/bin/true -x' })],
  ['exec with no command', one({ name: 'x', type: 'exec', command: [] })],
  ['exec with a relative program', one({ name: 'x', type: 'exec', command: ['check_dummy', '0'] })],
  ['exec with a number as an argument', one({ name: 'x', type: 'exec', command: ['/bin/true', 1] })],
  ['exec with a bad variable name', one({ name: 'x', type: 'exec', command: ['/bin/true'], env: { '1X': 'y' } })],
  ['exec with a variable that is not a string', one({ name: 'x', type: 'exec', command: ['/bin/true'], env: { X: 1 } })],
  ['ttl with an interval', one({ name: 'p', type: 'ttl', ttl: '30s', interval: '5s' })],
  ['ttl with a timeout', one({ name: 'p', type: 'ttl', ttl: '30s', timeout: '1s' })],
  ['ttl below a second', one({ name: 'p', type: 'ttl', ttl: '500ms' })],
  ['ttl of half a second as a number', one({ name: 'p', type: 'ttl', ttl: 0.5 })],
  ['ttl missing', one({ name: 'p', type: 'ttl' })],
];

describe('files the schema and the service both refuse', () => {
  for (const [name, document] of refused) {
    test(name, () => {
      const started = service(document);
      assert.equal(started.status, 2, `the service accepted it (exit ${started.status})`);
      const verdict = schemaSays(document);
      assert.ok(!verdict.ok, `the schema accepted what the service refuses: ${started.said}`);
    });
  }
});

// ------------------------- what only the service can check, listed apart

const beyondShape = [
  ['a timeout not below the interval', one(with_(tcp, { interval: '1s', timeout: '1s' })), 'checks[0].timeout: must be less than interval (1s)'],
  ['two checks of the same name', { checks: [tcp, tcp] }, 'checks[1].name: duplicate name "db"'],
  ['a CA file that cannot be read', one({ name: 'a', type: 'http', url: 'https://a/', ca_file: '/nonexistent/ca.pem' }), 'cannot read'],
  ['a program that does not exist', one({ name: 'x', type: 'exec', command: ['/nonexistent/plugin'] }), 'cannot execute'],
  ['a conninfo libpq refuses', one({ name: 'db', type: 'postgres', conninfo: 'host=h password=\'unterminated' }), 'unterminated quoted string'],
  ['a variable that is not set', one(with_(tcp, { host: '${NOT_SET_ANYWHERE}' })), 'environment variable NOT_SET_ANYWHERE is not set'],
  ['a warning threshold below the failing one', one({ name: 'd', type: 'disk', path: '/', min_free_percent: 10, warn_free_percent: 5 }), 'must be above min_free_percent'],
];

describe('what only the service can check (the schema accepts the shape)', () => {
  for (const [name, document, said] of beyondShape) {
    test(name, () => {
      assert.ok(schemaSays(document).ok);
      const started = service(document);
      assert.equal(started.status, 2);
      assert.ok(started.said.includes(said), started.said);
    });
  }
});
