// Live contract tests: the real binary on real sockets, every route and
// every error it can be made to send, each answer checked against the
// OpenAPI document (status code declared for that operation, content type,
// declared headers, and the body against the response schema with Ajv's
// JSON Schema 2020-12 validator and its date-time format).
//
// Run: BADGES_HEALTH_BINARY=build/test/badges-health node --test tests/contract/
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
const documentPath = path.join(here, '..', '..', 'openapi', 'badges-health.openapi.json');
const doc = JSON.parse(readFileSync(documentPath, 'utf8'));
const binary = process.env.BADGES_HEALTH_BINARY;
assert.ok(binary, 'set BADGES_HEALTH_BINARY to the badges-health binary to test');

// ---------------------------------------------------------------- schemas

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi.json');

function pointer(...parts) {
  return parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

function deref(obj) {
  let o = obj;
  while (o && o.$ref) {
    assert.ok(o.$ref.startsWith('#/'), `only local references: ${o.$ref}`);
    o = o.$ref
      .slice(2)
      .split('/')
      .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce((acc, key) => acc[key], doc);
    assert.ok(o !== undefined, `dangling reference ${obj.$ref}`);
  }
  return o;
}

// The path item a request path falls under: its own, or a templated one
// whose last segment is a parameter (`/readyz/{name}` for `/readyz/db`).
function pathItemOf(p) {
  if (doc.paths[p]) return [p, doc.paths[p]];
  for (const [template, item] of Object.entries(doc.paths)) {
    const prefix = template.match(/^(.*\/)\{[^/}]+\}$/)?.[1];
    if (prefix && p.startsWith(prefix) && p.length > prefix.length && !p.slice(prefix.length).includes('/')) {
      return [template, item];
    }
  }
  return [p, undefined];
}

// The documented responses of one request: the operation's, or for
// unknown paths, unknown methods and the `*` target the server-wide ones.
function documentedResponses(method, target) {
  const server = doc['x-server-wide'];
  if (target === '*') return { where: 'x-server-wide.asteriskOptions', responses: server.asteriskOptions.responses };
  if (!target.startsWith('/')) {
    return { where: 'x-server-wide.unroutableRequests', responses: server.unroutableRequests.responses };
  }
  const [p, item] = pathItemOf(target.split('?')[0]);
  if (!item) return { where: 'x-server-wide.unknownPaths', responses: server.unknownPaths.responses };
  const op = item[method.toLowerCase()];
  if (!op) return { where: `paths.${p}.x-other-methods`, responses: item['x-other-methods'].responses };
  return { where: `paths.${p}.${method.toLowerCase()}`, responses: op.responses };
}

function mediaType(value) {
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

// Checks one answer against the document; returns the parsed JSON body
// (or null).
function checkAgainstContract(method, target, res) {
  const { where, responses } = documentedResponses(method, target);
  const declared = responses[String(res.status)];
  assert.ok(declared, `${method} ${target} answered ${res.status}, which ${where} does not declare ` +
    `(declared: ${Object.keys(responses).join(', ')})\n${res.raw}`);
  const response = deref(declared);

  for (const [name, h] of Object.entries(response.headers ?? {})) {
    const header = deref(h);
    const value = res.headers[name.toLowerCase()];
    if (header.required) {
      assert.ok(value !== undefined, `${method} ${target} ${res.status}: missing required header ${name}`);
    }
    if (value !== undefined && header.schema) {
      const schema = deref(header.schema);
      const typed = schema.type === 'integer' ? Number(value) : value;
      const validate = ajv.compile(schema);
      assert.ok(validate(typed), `${method} ${target} ${res.status}: header ${name}: ${value}: ` +
        ajv.errorsText(validate.errors));
    }
  }

  const content = response.content ?? {};
  if (method === 'HEAD' || res.status === 204) {
    assert.equal(res.body.length, 0, `${method} ${target} ${res.status} must have no body`);
    return null;
  }
  const types = Object.keys(content);
  assert.ok(types.length > 0, `${where} ${res.status} declares no content but a body came`);
  const actual = mediaType(res.headers['content-type']);
  const key = types.find((t) => mediaType(t) === actual);
  assert.ok(key, `${method} ${target} ${res.status}: Content-Type ${res.headers['content-type']} ` +
    `not among ${types.join(', ')}`);
  // application/json and the JSON-based application/health+json.
  if (actual !== 'application/json' && !actual.endsWith('+json')) return null;

  const body = JSON.parse(res.body);
  const statusRef = declared.$ref
    ? `openapi.json#/${declared.$ref.slice(2)}`
    : `openapi.json#/${pointer(...where.split('.'), 'responses', res.status)}`;
  const validate = ajv.getSchema(`${statusRef}/${pointer('content', key, 'schema')}`);
  assert.ok(validate, `no schema at ${statusRef}`);
  assert.ok(validate(body), `${method} ${target} ${res.status}: body does not match the schema: ` +
    `${ajv.errorsText(validate.errors)}\n${res.body}`);
  return body;
}

// ------------------------------------------------------------ raw client

// Sends `bytes` on a new connection and reads until the server closes it
// (every request here asks for `Connection: close` or is an error that
// closes); parses one HTTP/1.1 response.
// `until(raw)`: the answer is complete before the close (an event stream,
// which the server does not end): the socket is closed once it holds.
function exchange(port, bytes, { hold, until } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (c) => {
      chunks.push(c);
      if (until && until(Buffer.concat(chunks).toString('latin1'))) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no complete response: ${JSON.stringify(raw)}`));
      const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
      const headers = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(end + 4), raw });
    });
    if (hold) hold(socket);
  });
}

// Paths whose GET answers an event stream (text/event-stream): read up to
// the end of the first event, since the stream stays open.
const STREAMS = new Set(Object.keys(doc.paths).filter((p) => {
  const ok = doc.paths[p].get?.responses?.['200'];
  return ok && 'text/event-stream' in (deref(ok).content ?? {});
}));

function firstEventRead(raw) {
  // Anything but a 200 is an ordinary answer, which ends with the close.
  const head = raw.indexOf('\r\n\r\n');
  if (head < 0 || !raw.startsWith('HTTP/1.1 200')) return false;
  return raw.indexOf('\n\n', head + 4) >= 0;
}

function request(port, method, target, extra = '') {
  const bytes = `${method} ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`;
  const stream = method === 'GET' && STREAMS.has(target.split('?')[0]);
  return exchange(port, bytes, stream ? { until: firstEventRead } : {});
}

// The events of an HTTP/1.1 event stream's body read so far: its chunks
// joined, split into `{id, event, data}`.
function streamEvents(body) {
  let text = '';
  for (let rest = body; ;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) break;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0) || rest.length < eol + 2 + size) break;
    text += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
  return text.split('\n\n').filter((b) => b && !b.startsWith(':')).map((block) => {
    const e = {};
    for (const line of block.split('\n')) {
      const colon = line.indexOf(': ');
      if (colon > 0) e[line.slice(0, colon)] = line.slice(colon + 2);
    }
    return e;
  });
}

// ----------------------------------------------------------- the service

class Service {
  constructor(args = [], env = {}) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'badges-health-contract-'));
    this.args = args;
    this.env = env;
    this.log = '';
  }

  start() {
    return new Promise((resolve, reject) => {
      this.proc = spawn(binary, ['--port', '0', '--host', '127.0.0.1', '--threads', '2', ...this.args],
        { env: { PATH: process.env.PATH, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      const onData = (d) => {
        this.log += d.toString();
        const m = this.log.match(/listening on 127\.0\.0\.1:(\d+)/);
        if (m && !this.port) {
          this.port = Number(m[1]);
          resolve(this);
        }
      };
      this.proc.stdout.on('data', onData);
      this.proc.stderr.on('data', onData);
      this.proc.on('exit', (code) => {
        this.exitCode = code;
        if (!this.port) reject(new Error(`exited ${code} before listening:\n${this.log}`));
      });
      setTimeout(() => reject(new Error(`not listening after 10 s:\n${this.log}`)), 10000).unref();
    });
  }

  stop() {
    if (this.proc && this.exitCode === undefined) this.proc.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  file(name) {
    return path.join(this.dir, name);
  }

  // Polls GET target until `predicate(body)` holds (checks run on their own
  // schedule), returning the last answer.
  async waitFor(target, predicate, extra = '') {
    let res;
    for (let i = 0; i < 100; ++i) {
      res = await request(this.port, 'GET', target, extra);
      if (predicate(res)) return res;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`${target} never reached the expected state; last answer:\n${res.raw}\nlog:\n${this.log}`);
  }
}

// The paths an instance without optional flags serves: a path item marked
// `x-only-with` (PUT /checks/{name}, with --admin-token) exists only when
// its flag is given.
const PATHS = Object.keys(doc.paths).filter((p) => !doc.paths[p]['x-only-with']);
// Those without a path parameter: a templated path (`/readyz/{name}`)
// needs a name the instance knows, so its own tests cover it.
const FIXED_PATHS = PATHS.filter((p) => !p.includes('{'));

// ----------------------------------------------------------------- tests

describe('contract', () => {
  test('the binary serves exactly the paths the document declares, and embeds the document', async () => {
    const svc = await new Service().start();
    try {
      const index = checkAgainstContract('GET', '/', await request(svc.port, 'GET', '/'));
      assert.deepEqual([...index.endpoints].sort(), [...PATHS].sort());
      const served = await request(svc.port, 'GET', '/openapi.json');
      checkAgainstContract('GET', '/openapi.json', served);
      assert.ok(Buffer.from(served.body, 'latin1').equals(readFileSync(documentPath)),
        'GET /openapi.json is not byte-for-byte openapi/badges-health.openapi.json (rebuild?)');
    } finally {
      svc.stop();
    }
  });

  describe('a healthy instance without checks', () => {
    let svc;
    before(async () => {
      svc = await new Service(['--max-header-bytes', '4096', '--max-target-bytes', '1024']).start();
    });
    after(() => svc.stop());

    for (const p of FIXED_PATHS) {
      for (const method of ['GET', 'HEAD', 'OPTIONS']) {
        test(`${method} ${p}`, async () => {
          const res = await request(svc.port, method, p);
          checkAgainstContract(method, p, res);
          assert.equal(res.status, method === 'OPTIONS' ? 204 : 200, res.raw);
        });
      }
      test(`POST ${p} is a documented 405`, async () => {
        const res = await request(svc.port, 'POST', p, 'Content-Length: 0\r\n');
        const body = checkAgainstContract('POST', p, res);
        assert.equal(res.status, 405);
        assert.equal(body.code, 'METHOD_NOT_ALLOWED');
      });
    }

    test('GET /status?verbose=true', async () => {
      const res = await request(svc.port, 'GET', '/status?verbose=true');
      const body = checkAgainstContract('GET', '/status?verbose=true', res);
      assert.equal(res.status, 200);
      assert.equal(body.status, 'ok');
      assert.deepEqual(body.checks, {});
    });

    test('GET /status/events: the first event is a StateEvent', async () => {
      const res = await request(svc.port, 'GET', '/status/events');
      checkAgainstContract('GET', '/status/events', res);
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      const [first] = streamEvents(res.body);
      assert.equal(first?.event, 'state', res.raw);
      const validate = ajv.getSchema('openapi.json#/components/schemas/StateEvent');
      const data = JSON.parse(first.data);
      assert.ok(validate(data), ajv.errorsText(validate.errors));
      assert.equal(data.status, 'ok');
      assert.deepEqual(data.checks, {});
    });

    test('GET /readyz?verbose and /livez?verbose: the text report', async () => {
      for (const [target, text] of [
        ['/readyz?verbose', 'readyz check passed\n'],
        ['/readyz?verbose=1', 'readyz check passed\n'],
        ['/livez?verbose', '[+]ping ok\nlivez check passed\n'],
        ['/livez?verbose=true', '[+]ping ok\nlivez check passed\n'],
      ]) {
        const res = await request(svc.port, 'GET', target);
        checkAgainstContract('GET', target, res);
        assert.equal(res.status, 200, res.raw);
        assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
        assert.equal(res.body, text);
        const head = await request(svc.port, 'HEAD', target);
        checkAgainstContract('HEAD', target, head);
        assert.equal(head.status, 200);
      }
    });

    test('/readyz/{name} for a name that is no check: 404 UNKNOWN_CHECK, OPTIONS 204, POST 405', async () => {
      const res = await request(svc.port, 'GET', '/readyz/nope');
      assert.equal(res.status, 404, res.raw);
      assert.equal(checkAgainstContract('GET', '/readyz/nope', res).code, 'UNKNOWN_CHECK');
      const head = await request(svc.port, 'HEAD', '/readyz/nope');
      checkAgainstContract('HEAD', '/readyz/nope', head);
      assert.equal(head.status, 404);
      const options = await request(svc.port, 'OPTIONS', '/readyz/nope');
      checkAgainstContract('OPTIONS', '/readyz/nope', options);
      assert.equal(options.status, 204);
      const post = await request(svc.port, 'POST', '/readyz/nope', 'Content-Length: 0\r\n');
      assert.equal(post.status, 405);
      assert.equal(checkAgainstContract('POST', '/readyz/nope', post).code, 'METHOD_NOT_ALLOWED');
    });

    test('OPTIONS *', async () => {
      const res = await request(svc.port, 'OPTIONS', '*');
      checkAgainstContract('OPTIONS', '*', res);
      assert.equal(res.status, 204);
    });

    test("HAProxy's bare OPTIONS / HTTP/1.0: 204", async () => {
      const res = await exchange(svc.port, 'OPTIONS / HTTP/1.0\r\n\r\n');
      checkAgainstContract('OPTIONS', '/', res);
      assert.equal(res.status, 204);
    });

    for (const target of ['/status', '/readyz']) {
      test(`GET ${target} with Accept: application/health+json`, async () => {
        const res = await request(svc.port, 'GET', target, 'Accept: application/health+json\r\n');
        const body = checkAgainstContract('GET', target, res);
        assert.equal(res.status, 200);
        assert.equal(mediaType(res.headers['content-type']), 'application/health+json');
        assert.equal(res.headers.vary, 'Accept');
        assert.equal(body.status, 'pass');
        assert.equal(body.serviceId, 'badges-health');
        assert.deepEqual(body.checks, {});
        const head = await request(svc.port, 'HEAD', target, 'Accept: application/health+json\r\n');
        checkAgainstContract('HEAD', target, head);
        assert.equal(mediaType(head.headers['content-type']), 'application/health+json');
      });

      test(`GET ${target} without that Accept: the seed's body, with Vary: Accept`, async () => {
        for (const accept of ['', 'Accept: */*\r\n', 'Accept: application/health+json;q=0\r\n']) {
          const res = await request(svc.port, 'GET', target, accept);
          const body = checkAgainstContract('GET', target, res);
          assert.equal(mediaType(res.headers['content-type']), 'application/json', accept);
          assert.equal(res.headers.vary, 'Accept', accept);
          assert.equal(body.status, 'ok', accept);
        }
      });
    }

    const errors = [
      ['unknown path', 'GET', '/nope', '', 404, 'NOT_FOUND'],
      ['unknown query parameter', 'GET', '/status?foo=1', '', 400, 'UNKNOWN_PARAMETER'],
      ['bad verbose value', 'GET', '/status?verbose=maybe', '', 400, 'INVALID_PARAMETER'],
      ['bad verbose value on /readyz', 'GET', '/readyz?verbose=maybe', '', 400, 'INVALID_PARAMETER'],
      ['bad verbose value on /livez', 'GET', '/livez?verbose=yes', '', 400, 'INVALID_PARAMETER'],
      ['unknown check in exclude on /status', 'GET', '/status?exclude=nope', '', 400, 'INVALID_PARAMETER'],
      ['unknown check in exclude on /readyz', 'GET', '/readyz?exclude=nope', '', 400, 'INVALID_PARAMETER'],
      ['exclude on /livez', 'GET', '/livez?exclude=nope', '', 400, 'UNKNOWN_PARAMETER'],
      ['query parameter on /readyz/{name}', 'GET', '/readyz/nope?verbose', '', 400, 'UNKNOWN_PARAMETER'],
      ['request body', 'GET', '/status', 'Content-Length: 2\r\n', 400, 'BODY_NOT_ALLOWED'],
      ['chunked body', 'GET', '/livez', 'Transfer-Encoding: chunked\r\n', 400, 'BODY_NOT_ALLOWED'],
      ['target that is not a path', 'GET', 'status', '', 400, 'BAD_REQUEST'],
      ['authority-form target', 'GET', 'example.com:80', '', 400, 'BAD_REQUEST'],
      ['bad percent-encoding', 'GET', '/status?verbose=%zz', '', 400, 'BAD_REQUEST'],
      ['* with GET', 'GET', '*', '', 400, 'BAD_REQUEST'],
      ['long target', 'GET', `/status?${'a'.repeat(2000)}`, '', 414, 'TARGET_TOO_LONG'],
      ['large header', 'GET', '/livez', `X-Big: ${'b'.repeat(5000)}\r\n`, 431, 'HEADER_TOO_LARGE'],
    ];
    for (const [name, method, target, extra, status, code] of errors) {
      test(`${name}: ${status} ${code}`, async () => {
        const res = await request(svc.port, method, target, extra);
        const body = checkAgainstContract(method, target, res);
        assert.equal(res.status, status, res.raw);
        assert.equal(body.code, code);
      });
    }

    // Request lines the helper above cannot write: the exact bytes.
    const rawErrors = [
      ['HTTP/1.1 without Host', 'GET /status HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
      ['two Host fields', 'GET /livez HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'BAD_REQUEST'],
      ['bare LF line endings', 'GET /status HTTP/1.1\nHost: a\n\n', 400, 'BAD_REQUEST'],
      ['HTTP/2.0 request line', 'GET /status HTTP/2.0\r\nHost: a\r\n\r\n', 505, 'HTTP_VERSION_NOT_SUPPORTED'],
    ];
    for (const [name, bytes, status, code] of rawErrors) {
      test(`${name}: ${status} ${code}`, async () => {
        const res = await exchange(svc.port, bytes);
        const body = checkAgainstContract('GET', bytes.includes('/livez') ? '/livez' : '/status', res);
        assert.equal(res.status, status, res.raw);
        assert.equal(body.code, code);
      });
    }

    test('CORS preflight: allowed methods and the Authorization header', async () => {
      const res = await request(svc.port, 'OPTIONS', '/status',
        'Origin: https://dashboard.example\r\nAccess-Control-Request-Method: GET\r\n');
      checkAgainstContract('OPTIONS', '/status', res);
      assert.equal(res.status, 204);
      assert.equal(res.headers['access-control-allow-headers'], 'Authorization');
      assert.equal(res.headers['access-control-allow-methods'], 'GET, HEAD, OPTIONS');
    });

    test('HEAD errors carry no body', async () => {
      const res = await request(svc.port, 'HEAD', '/status?foo=1');
      checkAgainstContract('HEAD', '/status?foo=1', res);
      assert.equal(res.status, 400);
    });
  });

  describe('an instance with checks and tokens', () => {
    let svc;
    let deadPort;
    before(async () => {
      // A port with nobody listening: bind, read the port, close.
      deadPort = await new Promise((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = s.address();
          s.close(() => resolve(port));
        });
      });
      svc = new Service(['--details-token', 'd3tails', '--metrics-token', 'm3trics']);
      writeFileSync(svc.file('checks.json'), JSON.stringify({
        checks: [
          { name: 'cache', type: 'tcp', host: '127.0.0.1', port: deadPort, critical: false,
            interval: '200ms', timeout: '100ms', rise: 1, fall: 1 },
          { name: 'maintenance', type: 'file', path: svc.file('maint'), when: 'absent',
            interval: '200ms', timeout: '100ms', rise: 1, fall: 1 },
        ],
      }));
      svc.args.push('--config', svc.file('checks.json'));
      await svc.start();
    });
    after(() => svc.stop());

    const details = 'Authorization: Bearer d3tails\r\n';

    test('degraded: 200 with x-envoy-degraded, verbose names the failing check', async () => {
      // Ready once every check has its first result (degraded still counts).
      await svc.waitFor('/readyz', (r) => r.status === 200);
      const res = await request(svc.port, 'GET', '/status');
      const body = checkAgainstContract('GET', '/status', res);
      assert.equal(res.status, 200);
      assert.equal(body.status, 'degraded');
      assert.equal(res.headers['x-envoy-degraded'], 'true');
      const verbose = await request(svc.port, 'GET', '/status?verbose=true', details);
      const vbody = checkAgainstContract('GET', '/status?verbose=true', verbose);
      assert.equal(vbody.checks.cache.status, 'fail');
      assert.equal(vbody.checks.maintenance.status, 'pass');
      checkAgainstContract('GET', '/readyz', await request(svc.port, 'GET', '/readyz'));
    });

    test('health+json: checks with the token, none without, 401 with a wrong one', async () => {
      await svc.waitFor('/readyz', (r) => r.status === 200);
      const accept = 'Accept: application/json;q=0.9, application/health+json\r\n';
      for (const target of ['/status', '/readyz']) {
        const shown = await request(svc.port, 'GET', target, accept + details);
        const body = checkAgainstContract('GET', target, shown);
        assert.equal(shown.status, 200, shown.raw);
        assert.equal(body.status, 'warn');
        assert.equal(body.checks['cache:responseTime'][0].status, 'fail');
        assert.equal(body.checks['cache:responseTime'][0].componentType, 'component');
        assert.ok(body.checks['cache:responseTime'][0].output);
        assert.equal(body.checks['maintenance:responseTime'][0].componentType, 'system');
        const anonymous = await request(svc.port, 'GET', target, accept);
        assert.equal(anonymous.status, 200);
        assert.equal(checkAgainstContract('GET', target, anonymous).checks, undefined);
        const wrong = await request(svc.port, 'GET', target, `${accept}Authorization: Bearer nope\r\n`);
        assert.equal(wrong.status, 401);
        assert.equal(checkAgainstContract('GET', target, wrong).code, 'UNAUTHORIZED');
      }
    });

    test('verbose and metrics without their tokens: 401', async () => {
      for (const target of ['/status?verbose=true', '/metrics']) {
        const res = await request(svc.port, 'GET', target);
        const body = checkAgainstContract('GET', target, res);
        assert.equal(res.status, 401);
        assert.equal(body.code, 'UNAUTHORIZED');
        const head = await request(svc.port, 'HEAD', target);
        checkAgainstContract('HEAD', target, head);
        assert.equal(head.status, 401);
      }
      const metrics = await request(svc.port, 'GET', '/metrics', 'Authorization: Bearer m3trics\r\n');
      checkAgainstContract('GET', '/metrics', metrics);
      assert.equal(metrics.status, 200);
    });

    test('/readyz/{name}, exclude and the text report while degraded', async () => {
      await svc.waitFor('/readyz', (r) => r.status === 200);
      const ok = await request(svc.port, 'GET', '/readyz/maintenance');
      checkAgainstContract('GET', '/readyz/maintenance', ok);
      assert.equal(ok.status, 200, ok.raw);
      assert.equal(ok.body, 'ok');
      // A failing non-critical check: 503 on its own endpoint, reason for the token only.
      const failing = await request(svc.port, 'GET', '/readyz/cache');
      checkAgainstContract('GET', '/readyz/cache', failing);
      assert.equal(failing.status, 503);
      assert.equal(failing.body, '[-]cache failed (not critical): reason withheld\nreadyz check failed\n');
      const shown = await request(svc.port, 'GET', '/readyz/cache', details);
      assert.match(shown.body, /^\[-\]cache failed \(not critical\): \S/);
      const head = await request(svc.port, 'HEAD', '/readyz/cache');
      checkAgainstContract('HEAD', '/readyz/cache', head);
      assert.equal(head.status, 503);
      const wrong = await request(svc.port, 'GET', '/readyz/cache', 'Authorization: Bearer nope\r\n');
      assert.equal(checkAgainstContract('GET', '/readyz/cache', wrong).code, 'UNAUTHORIZED');

      const report = await request(svc.port, 'GET', '/readyz?verbose');
      checkAgainstContract('GET', '/readyz?verbose', report);
      assert.equal(report.status, 200);
      assert.equal(report.body,
        '[-]cache failed (not critical): reason withheld\n[+]maintenance ok\nreadyz check passed\n');

      const excluded = await request(svc.port, 'GET', '/status?exclude=cache');
      assert.equal(checkAgainstContract('GET', '/status?exclude=cache', excluded).status, 'ok');
      assert.equal(excluded.headers['x-envoy-degraded'], undefined);
      const verbose = await request(svc.port, 'GET', '/status?verbose=true&exclude=cache', details);
      const vbody = checkAgainstContract('GET', '/status?verbose=true&exclude=cache', verbose);
      assert.equal(vbody.status, 'ok');
      assert.equal(vbody.checks.cache.excluded, true);
      assert.equal(vbody.checks.cache.status, 'fail');
      const healthJson = await request(svc.port, 'GET', '/readyz?exclude=cache',
        `Accept: application/health+json\r\n${details}`);
      const hbody = checkAgainstContract('GET', '/readyz?exclude=cache', healthJson);
      assert.equal(hbody.status, 'pass');
      assert.equal(hbody.checks['cache:responseTime'][0].excluded, true);
    });

    test('down: 503 on /status and /readyz, verbose too, /livez stays 200', async () => {
      writeFileSync(svc.file('maint'), '');
      const res = await svc.waitFor('/status', (r) => r.status === 503);
      assert.equal(checkAgainstContract('GET', '/status', res).status, 'down');
      const head = await request(svc.port, 'HEAD', '/status');
      checkAgainstContract('HEAD', '/status', head);
      assert.equal(head.status, 503);
      const verbose = await request(svc.port, 'GET', '/status?verbose=true', details);
      assert.equal(verbose.status, 503);
      const vbody = checkAgainstContract('GET', '/status?verbose=true', verbose);
      assert.equal(vbody.status, 'down');
      // `ready` is what /readyz says: false while a critical check fails,
      // and the document's example of this answer says so too.
      assert.equal(vbody.ready, false);
      const example = deref(doc.components.responses.StatusUnavailable).content['application/json']
        .examples.verboseDown.value;
      assert.deepEqual({ status: example.status, ready: example.ready }, { status: 'down', ready: false });
      const ready = await request(svc.port, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(checkAgainstContract('GET', '/readyz', ready).ready, false);
      const live = await request(svc.port, 'GET', '/livez');
      assert.equal(live.status, 200);
      checkAgainstContract('GET', '/livez', live);
    });

    test('down: health+json fail with 503 on /status and /readyz', async () => {
      await svc.waitFor('/status', (r) => r.status === 503);
      for (const target of ['/status', '/readyz']) {
        const res = await request(svc.port, 'GET', target, `Accept: application/health+json\r\n${details}`);
        assert.equal(res.status, 503, res.raw);
        const body = checkAgainstContract('GET', target, res);
        assert.equal(body.status, 'fail');
        assert.equal(body.checks['maintenance:responseTime'][0].status, 'fail');
      }
    });

    test('down: /readyz/{name} names the check, the report fails, exclude leaves it out', async () => {
      await svc.waitFor('/status', (r) => r.status === 503);
      const one = await request(svc.port, 'GET', '/readyz/maintenance');
      checkAgainstContract('GET', '/readyz/maintenance', one);
      assert.equal(one.status, 503);
      assert.equal(one.body, '[-]maintenance failed: reason withheld\nreadyz check failed\n');
      const report = await request(svc.port, 'GET', '/readyz?verbose=true');
      checkAgainstContract('GET', '/readyz?verbose=true', report);
      assert.equal(report.status, 503);
      assert.equal(report.body, '[-]cache failed (not critical): reason withheld\n' +
        '[-]maintenance failed: reason withheld\nreadyz check failed\n');
      const excluded = await request(svc.port, 'GET', '/readyz?exclude=maintenance');
      assert.equal(excluded.status, 200, excluded.raw);
      assert.equal(checkAgainstContract('GET', '/readyz?exclude=maintenance', excluded).ready, true);
      const both = await request(svc.port, 'GET', '/status?exclude=cache&exclude=maintenance');
      assert.equal(checkAgainstContract('GET', '/status?exclude=cache&exclude=maintenance', both).status, 'ok');
      const head = await request(svc.port, 'HEAD', '/readyz/maintenance');
      checkAgainstContract('HEAD', '/readyz/maintenance', head);
      assert.equal(head.status, 503);
    });

    test('down: OPTIONS / and OPTIONS * answer 503 SERVICE_UNAVAILABLE, preflights 204', async () => {
      await svc.waitFor('/status', (r) => r.status === 503);
      for (const target of ['/', '*']) {
        const res = await request(svc.port, 'OPTIONS', target);
        assert.equal(res.status, 503, res.raw);
        assert.equal(checkAgainstContract('OPTIONS', target, res).code, 'SERVICE_UNAVAILABLE');
        assert.equal(res.headers.allow, 'GET, HEAD, OPTIONS');
        const preflight = await request(svc.port, 'OPTIONS', target, 'Access-Control-Request-Method: GET\r\n');
        checkAgainstContract('OPTIONS', target, preflight);
        assert.equal(preflight.status, 204);
      }
      const other = await request(svc.port, 'OPTIONS', '/status');
      checkAgainstContract('OPTIONS', '/status', other);
      assert.equal(other.status, 204);
    });
  });

  describe('an instance with an admin token: maintenance', () => {
    let svc;
    before(async () => {
      svc = await new Service(['--admin-token', 'adm1n', '--max-maintenance', '1h']).start();
    });
    after(() => svc.stop());

    const admin = 'Authorization: Bearer adm1n\r\n';
    const put = (body, extra = `${admin}Content-Type: application/json\r\n`) => exchange(svc.port,
      `PUT /maintenance HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

    test('the index lists /maintenance', async () => {
      const index = checkAgainstContract('GET', '/', await request(svc.port, 'GET', '/'));
      assert.ok(index.endpoints.includes('/maintenance'), index.endpoints);
    });

    test('PUT, GET and DELETE /maintenance, and every probe while in it', async () => {
      const res = await put('{"reason": "db migration", "for": "30m"}');
      const window = checkAgainstContract('PUT', '/maintenance', res);
      assert.equal(res.status, 200, res.raw);
      assert.equal(window.active, true);
      assert.equal(window.reason, 'db migration');
      const shown = await request(svc.port, 'GET', '/maintenance', admin);
      assert.deepEqual(checkAgainstContract('GET', '/maintenance', shown), window);
      const status = await request(svc.port, 'GET', '/status');
      assert.equal(status.status, 503);
      assert.equal(checkAgainstContract('GET', '/status', status).status, 'down');
      const verbose = await request(svc.port, 'GET', '/status?verbose=true');
      assert.equal(verbose.status, 503);
      assert.deepEqual(checkAgainstContract('GET', '/status?verbose=true', verbose).maintenance,
        { reason: 'db migration', since: window.since, until: window.until });
      for (const target of ['/status', '/readyz']) {
        const hj = await request(svc.port, 'GET', target, 'Accept: application/health+json\r\n');
        assert.equal(hj.status, 503);
        assert.equal(checkAgainstContract('GET', target, hj).output,
          `in maintenance until ${window.until}: db migration`);
      }
      const ready = await request(svc.port, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(checkAgainstContract('GET', '/readyz', ready).ready, false);
      const live = await request(svc.port, 'GET', '/livez');
      assert.equal(live.status, 200);
      const probe = await exchange(svc.port, 'OPTIONS / HTTP/1.0\r\n\r\n');
      assert.equal(probe.status, 503);
      assert.equal(checkAgainstContract('OPTIONS', '/', probe).code, 'SERVICE_UNAVAILABLE');

      const ended = await request(svc.port, 'DELETE', '/maintenance', admin);
      checkAgainstContract('DELETE', '/maintenance', ended);
      assert.equal(ended.status, 204);
      const none = await request(svc.port, 'GET', '/maintenance', admin);
      assert.deepEqual(checkAgainstContract('GET', '/maintenance', none), { active: false });
      assert.equal((await request(svc.port, 'GET', '/status')).status, 200);
    });

    const refusals = [
      ['no token', () => request(svc.port, 'GET', '/maintenance'), 'GET', 401, 'UNAUTHORIZED'],
      ['a wrong token', () => request(svc.port, 'DELETE', '/maintenance', 'Authorization: Bearer no\r\n'),
        'DELETE', 401, 'UNAUTHORIZED'],
      ['not JSON', () => put('db migration'), 'PUT', 400, 'INVALID_MAINTENANCE'],
      ['no reason', () => put('{"for": "30m"}'), 'PUT', 400, 'INVALID_MAINTENANCE'],
      ['above --max-maintenance', () => put('{"reason": "x", "for": "2h"}'), 'PUT', 400, 'INVALID_MAINTENANCE'],
      ['an unknown member', () => put('{"reason": "x", "for": "1m", "by": "me"}'), 'PUT', 400,
        'INVALID_MAINTENANCE'],
      ['a form body', () => put('reason=x', `${admin}Content-Type: application/x-www-form-urlencoded\r\n`),
        'PUT', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['a body over 4 KiB', () => put('x'.repeat(5000)), 'PUT', 413, 'BODY_TOO_LARGE'],
      ['a DELETE with a body', () => exchange(svc.port, 'DELETE /maintenance HTTP/1.1\r\nHost: localhost\r\n' +
        `${admin}Content-Length: 2\r\n\r\n{}`), 'DELETE', 400, 'BODY_NOT_ALLOWED'],
      ['POST', () => request(svc.port, 'POST', '/maintenance', `${admin}Content-Length: 0\r\n`), 'POST', 405,
        'METHOD_NOT_ALLOWED'],
    ];
    for (const [name, send, method, status, code] of refusals) {
      test(`/maintenance, ${name}: ${status} ${code}`, async () => {
        const res = await send();
        assert.equal(res.status, status, res.raw);
        assert.equal(checkAgainstContract(method, '/maintenance', res).code, code);
      });
    }
  });

  test('draining after SIGTERM: /status 503 down, verbose says draining, OPTIONS / 503', async () => {
    const svc = await new Service(['--drain-delay', '3s']).start();
    try {
      svc.proc.kill('SIGTERM');
      const res = await svc.waitFor('/status', (r) => r.status === 503);
      assert.equal(checkAgainstContract('GET', '/status', res).status, 'down');
      const verbose = await request(svc.port, 'GET', '/status?verbose=true');
      assert.equal(checkAgainstContract('GET', '/status?verbose=true', verbose).draining, true);
      const probe = await exchange(svc.port, 'OPTIONS / HTTP/1.0\r\n\r\n');
      assert.equal(probe.status, 503, probe.raw);
      assert.equal(checkAgainstContract('OPTIONS', '/', probe).code, 'SERVICE_UNAVAILABLE');
      const healthJson = await request(svc.port, 'GET', '/status', 'Accept: application/health+json\r\n');
      assert.equal(healthJson.status, 503);
      assert.equal(checkAgainstContract('GET', '/status', healthJson).status, 'fail');
      const report = await request(svc.port, 'GET', '/readyz?verbose');
      checkAgainstContract('GET', '/readyz?verbose', report);
      assert.equal(report.status, 503);
      assert.equal(report.body, '[-]shutdown draining\nreadyz check failed\n');
    } finally {
      svc.stop();
    }
  });

  test('a connection above --max-connections: 503 TOO_MANY_CONNECTIONS', async () => {
    const svc = await new Service(['--max-connections', '1']).start();
    let held;
    try {
      // The first connection takes the only slot and stays open.
      held = net.connect(svc.port, '127.0.0.1');
      await new Promise((r) => held.on('connect', r));
      await new Promise((r) => setTimeout(r, 100));
      const res = await exchange(svc.port, '');
      const body = checkAgainstContract('GET', '/status', res);
      assert.equal(res.status, 503);
      assert.equal(body.code, 'TOO_MANY_CONNECTIONS');
    } finally {
      held?.destroy();
      svc.stop();
    }
  });

  // Every code the document declares is in the handbook's error table (the
  // README's), with its HTTP status.
  test('the README error table lists every error code of the document', () => {
    const readme = readFileSync(path.join(here, '..', '..', 'README.md'), 'utf8');
    const rows = new Map(
      [...readme.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)].map(([, status, code]) => [code, status]),
    );
    for (const code of doc.components.schemas.Error.properties.code.enum) {
      assert.ok(rows.has(code), `README.md: no row for ${code} in the error table`);
    }
    for (const [code, status] of rows) {
      assert.ok(doc.components.schemas.Error.properties.code.enum.includes(code),
        `README.md lists ${code} (${status}), which the document does not declare`);
    }
  });

  // The front page names every path the document declares.
  test('the README endpoints table names every path of the document', () => {
    const readme = readFileSync(path.join(here, '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Endpoints'), readme.indexOf('Errors have the body'));
    for (const [p, item] of Object.entries(doc.paths)) {
      // GET for the routes that have it; PUT for the write-only route.
      const method = 'get' in item ? 'GET' : 'PUT';
      assert.ok(table.includes(`\`${method} ${p}`),
        `README.md: the endpoints table does not name ${method} ${p}`);
    }
  });

  test('the checker rejects what the document does not allow', () => {
    // Guards against a validator that accepts everything.
    const headers = {
      'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
      'access-control-allow-origin': '*', date: 'Thu, 26 Nov 2026 16:23:28 GMT', 'content-length': '39',
    };
    const ok = { status: 200, headers, body: '{"status":"ok","timestamp":"yesterday"}', raw: '' };
    assert.doesNotThrow(() => checkAgainstContract('GET', '/livez', { ...ok, body: '{"status":"ok","timestamp":"2026-11-26T16:23:28.123Z"}' }));
    assert.throws(() => checkAgainstContract('GET', '/livez', ok), /body does not match/);
    const undeclared = { status: 418, headers: {}, body: '', raw: '' };
    assert.throws(() => checkAgainstContract('GET', '/livez', undeclared), /does not declare/);
    const cached = { ...ok, headers: { ...headers, 'cache-control': 'max-age=60' } };
    assert.throws(() => checkAgainstContract('GET', '/livez', cached), /header Cache-Control/);
  });
});
