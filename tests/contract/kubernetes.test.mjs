// Checks deploy/kubernetes against the real binary, the real Kubernetes
// object schemas and Prometheus' own rule tools.
//
// Both overlays (standalone, sidecar) are rendered from the Kustomize base
// by a small renderer below (resources and RFC 6902 patches, all the
// overlays use), so the test needs no kubectl; where kubectl is installed,
// `kubectl kustomize` renders them too and must give the same objects.
// Every rendered object is validated against the Kubernetes schemas of the
// npm `kubernetes-models` packages (and the Prometheus Operator's for the
// ServiceMonitor and PrometheusRule). The badges-health container of each
// overlay (its env, plus the image's ENV from the Dockerfile, its ConfigMap
// and Secret mounts written to a temporary root) is run through
// `badges-health --print-config`, and the probes, ports, drain timing,
// security context, resources, Service, ServiceMonitor, NetworkPolicy,
// budget and autoscaler are checked against what it prints. The alert
// rules go through `promtool check rules` and `promtool test rules`
// (alerts.promtool.yaml), and may only name metrics the binary exports.
//
//   cd tests/contract && BADGES_HEALTH_BINARY=../../build/test/badges-health \
//     node --test kubernetes.test.mjs
//
// The last tests break copies of the manifests in memory and expect each
// check to fail, so a check that can no longer fail is noticed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const deployDir = join(repoRoot, 'deploy', 'kubernetes');
const dockerfilePath = join(repoRoot, 'Dockerfile');
const promtoolTests = join(here, 'alerts.promtool.yaml');

const NAME = 'badges-health';
const NAME_LABEL = 'app.kubernetes.io/name';
const VERSION_LABEL = 'app.kubernetes.io/version';
const OVERLAYS = ['standalone', 'sidecar'];

// ---------------------------------------------------------------------------
// Inputs

function binaryPath() {
  const path = process.env.BADGES_HEALTH_BINARY;
  if (!path) {
    throw new Error(
      'BADGES_HEALTH_BINARY is not set: point it at a badges-health build, e.g. ' +
        'BADGES_HEALTH_BINARY=../../build/test/badges-health node --test kubernetes.test.mjs',
    );
  }
  const absolute = resolve(path);
  try {
    accessSync(absolute, constants.X_OK);
  } catch (e) {
    throw new Error(`BADGES_HEALTH_BINARY=${path}: not an executable file (${e.code})`);
  }
  return absolute;
}

// YAML as Kubernetes reads it (1.1: `on`, `yes` and 0440 mean what they did).
function parseYamlDocuments(text, where) {
  return parseAllDocuments(text, { version: '1.1' })
    .map((doc, i) => {
      const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
      if (problems.length) throw new Error(`${where} (document ${i + 1}): ${problems.join('; ')}`);
      return doc.toJS();
    })
    .filter((o) => o !== null && o !== undefined);
}

// ---------------------------------------------------------------------------
// Kustomize, as far as these overlays use it: `resources` (files and
// directories holding a kustomization.yaml) and `patches` whose patch is an
// RFC 6902 JSON patch (inline or `path`), selected by group, version, kind
// and name. Anything else in a kustomization is refused, so an overlay
// cannot silently use a feature this renderer would ignore.

const KUSTOMIZATION_KEYS = new Set(['apiVersion', 'kind', 'resources', 'patches']);

function jsonPointer(path) {
  if (path === '') return [];
  assert.ok(path.startsWith('/'), `JSON pointer ${path} must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function applyJsonPatch(doc, ops, where) {
  for (const op of ops) {
    const keys = jsonPointer(op.path);
    const last = keys.pop();
    let parent = doc;
    for (const k of keys) {
      parent = Array.isArray(parent) ? parent[Number(k)] : parent?.[k];
      assert.ok(parent !== undefined, `${where}: ${op.op} ${op.path}: no such path`);
    }
    const isArray = Array.isArray(parent);
    const index = last === '-' ? parent.length : Number(last);
    switch (op.op) {
      case 'add':
        if (isArray) parent.splice(index, 0, structuredClone(op.value));
        else parent[last] = structuredClone(op.value);
        break;
      case 'replace':
        assert.ok(isArray ? index < parent.length : last in parent,
          `${where}: replace ${op.path}: nothing there`);
        if (isArray) parent[index] = structuredClone(op.value);
        else parent[last] = structuredClone(op.value);
        break;
      case 'remove':
        assert.ok(isArray ? index < parent.length : last in parent,
          `${where}: remove ${op.path}: nothing there`);
        if (isArray) parent.splice(index, 1);
        else delete parent[last];
        break;
      default:
        assert.fail(`${where}: JSON patch op ${op.op} is not supported here`);
    }
  }
}

function matchesTarget(obj, target) {
  const [group, version] = obj.apiVersion.includes('/')
    ? obj.apiVersion.split('/')
    : ['', obj.apiVersion];
  return (
    (target.group === undefined || target.group === group) &&
    (target.version === undefined || target.version === version) &&
    (target.kind === undefined || target.kind === obj.kind) &&
    (target.name === undefined || target.name === obj.metadata?.name)
  );
}

function kustomize(dir) {
  const file = join(dir, 'kustomization.yaml');
  const where = relative(repoRoot, file);
  const k = parseYaml(readFileSync(file, 'utf8'), { version: '1.1' });
  for (const key of Object.keys(k)) {
    assert.ok(KUSTOMIZATION_KEYS.has(key), `${where}: '${key}' is not supported by this renderer`);
  }
  const objects = [];
  for (const r of k.resources ?? []) {
    const path = join(dir, r);
    if (statSync(path).isDirectory()) objects.push(...kustomize(path));
    else objects.push(...parseYamlDocuments(readFileSync(path, 'utf8'), relative(repoRoot, path)));
  }
  for (const p of k.patches ?? []) {
    const text = p.patch ?? readFileSync(join(dir, p.path), 'utf8');
    const ops = parseYaml(text, { version: '1.1' });
    assert.ok(Array.isArray(ops), `${where}: only JSON 6902 patches (a list of ops) are supported`);
    const targets = objects.filter((o) => matchesTarget(o, p.target ?? {}));
    assert.ok(targets.length > 0, `${where}: patch target ${JSON.stringify(p.target)} matches nothing`);
    for (const o of targets) applyJsonPatch(o, ops, where);
  }
  return objects;
}

const objectKey = (o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

// `kubectl kustomize` on the same directory, when kubectl is installed.
function kubectlKustomize(dir) {
  const which = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `kubectl kustomize ${dir} failed: ${run.stderr}`);
  return parseYamlDocuments(run.stdout, `kubectl kustomize ${relative(repoRoot, dir)}`);
}

// ---------------------------------------------------------------------------
// Schemas: kubernetes-models (types, required fields, enums and formats of
// the real API; unknown fields are not reported).

async function modelFor(obj) {
  const apiVersion = obj.apiVersion;
  const module = apiVersion.startsWith('monitoring.coreos.com/')
    ? `@kubernetes-models/prometheus-operator/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;
  const models = await import(module);
  assert.ok(models[obj.kind], `no schema for ${apiVersion} ${obj.kind}`);
  return models[obj.kind];
}

async function validateSchema(obj) {
  const Model = await modelFor(obj);
  new Model(structuredClone(obj)).validate();
}

// ---------------------------------------------------------------------------
// The Dockerfile's final stage: ARG defaults, ENV, USER, ENTRYPOINT.

function readDockerfile() {
  const lines = readFileSync(dockerfilePath, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const firstFrom = lines.findIndex((l) => /^FROM\s/i.test(l));
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  const vars = {};
  const env = {};
  let user;
  let entrypoint;
  const substitute = (s) =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a, b) => env[a ?? b] ?? vars[a ?? b] ?? '');
  const unquote = (s) => (/^".*"$/.test(s) ? JSON.parse(s) : s);
  const apply = (line) => {
    const [, instruction, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    switch (instruction?.toUpperCase()) {
      case 'ARG': {
        const [, name, value] = /^(\w+)(?:=(.*))?$/.exec(rest);
        if (value !== undefined) vars[name] = unquote(value);
        break;
      }
      case 'ENV':
        for (const [, k, v] of rest.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
          env[k] = substitute(unquote(v));
        }
        break;
      case 'USER':
        user = substitute(rest).split(':')[0];
        break;
      case 'ENTRYPOINT':
        entrypoint = JSON.parse(rest);
        break;
      default:
    }
  };
  lines.slice(0, firstFrom).forEach(apply);
  lines.slice(lastFrom + 1).forEach(apply);
  assert.match(user ?? '', /^\d+$/, 'Dockerfile: USER must be numeric for runAsNonRoot');
  return { user: Number(user), env, entrypoint };
}

// ---------------------------------------------------------------------------
// The model of one overlay: its objects and the badges-health container.

function isSubset(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function buildModel(overlay, objects) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const only = (kind) => {
    const list = byKind(kind);
    assert.equal(list.length, 1, `${overlay}: expected one ${kind}, found ${list.length}`);
    return list[0];
  };
  const deployment = only('Deployment');
  const podSpec = deployment.spec?.template?.spec;
  assert.ok(podSpec, `${overlay}: Deployment has no pod spec`);
  const container = (podSpec.containers ?? []).find((c) => c.name === NAME);
  assert.ok(container, `${overlay}: no container named ${NAME}`);
  return {
    overlay,
    objects,
    byKind,
    deployment,
    podSpec,
    container,
    templateLabels: deployment.spec.template.metadata?.labels ?? {},
    service: only('Service'),
    serviceMonitor: only('ServiceMonitor'),
    prometheusRule: only('PrometheusRule'),
    image: readDockerfile(),
  };
}

function configMapNamed(m, name) {
  return m.byKind('ConfigMap').find((c) => c.metadata?.name === name);
}

// The container's environment as the kubelet builds it: the image's ENV,
// then env (later entries win). Secret values get placeholders.
function containerEnv(m) {
  const defined = {};
  const seen = new Set();
  for (const e of m.container.env ?? []) {
    assert.ok(!seen.has(e.name), `env ${e.name} is listed twice`);
    seen.add(e.name);
    if (e.valueFrom) {
      assert.ok(e.valueFrom.secretKeyRef, `env ${e.name}: only secretKeyRef is supported`);
      defined[e.name] = `placeholder-${e.valueFrom.secretKeyRef.key}`;
      continue;
    }
    assert.equal(typeof (e.value ?? ''), 'string', `env ${e.name}: quote the value`);
    defined[e.name] = e.value ?? '';
  }
  for (const name of Object.keys(defined)) {
    assert.ok(
      name.startsWith('BADGES_HEALTH_') ||
        ['HTTP_SERVER_HOST', 'HTTP_SERVER_PORT', 'CURRENT_VERSION', 'COMMIT_HASH'].includes(name),
      `env ${name} is not a variable badges-health reads (docs/configuration.md)`,
    );
  }
  return { ...m.image.env, ...defined };
}

function volumeOf(m, mount) {
  const volume = (m.podSpec.volumes ?? []).find((v) => v.name === mount.name);
  assert.ok(volume, `volumeMount ${mount.name}: no volume of that name`);
  return volume;
}

// Files the container sees from ConfigMap and Secret volumes: container
// path -> { kind, source, key, mountPath, content }. Secret keys must be
// listed (`items`), and get a placeholder token.
function mountedFiles(m) {
  const files = new Map();
  for (const mount of m.container.volumeMounts ?? []) {
    const volume = volumeOf(m, mount);
    let entries;
    if (volume.configMap) {
      const cm = configMapNamed(m, volume.configMap.name);
      assert.ok(cm, `volume ${volume.name}: ConfigMap ${volume.configMap.name} is not in the overlay`);
      entries = (volume.configMap.items ?? Object.keys(cm.data ?? {}).map((k) => ({ key: k, path: k })))
        .map((i) => ({ ...i, kind: 'ConfigMap', source: cm.metadata.name, content: cm.data?.[i.key] }));
    } else if (volume.secret) {
      assert.ok(volume.secret.items, `volume ${volume.name}: list the Secret's keys under items`);
      entries = volume.secret.items.map((i) => ({
        ...i,
        kind: 'Secret',
        source: volume.secret.secretName,
        content: `placeholder-${i.key}\n`,
      }));
    } else {
      continue;
    }
    for (const e of entries) {
      assert.ok(e.content !== undefined, `${e.kind} ${e.source}: no key ${e.key}`);
      files.set(posix.join(mount.mountPath, e.path), { ...e, mountPath: mount.mountPath, mount });
    }
  }
  return files;
}

// Settings of the test harness, not of the container.
const HARNESS_ENV = ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'TSAN_OPTIONS'];

// Variables whose value is a path in the container, rewritten into the
// temporary root that mirrors the mounts.
const PATH_VARIABLES = /^BADGES_HEALTH_(CONFIG|ADDRESS_FILE|.*_FILE)$/;

// Runs --print-config with the container's env, its mounted files written
// under a temporary root and every path variable rewritten into it.
// `envOverride` and `files` (container path -> content) replace values.
function printConfig(m, { envOverride = {}, files = {} } = {}) {
  const env = { ...containerEnv(m), ...envOverride };
  assert.equal(m.container.command, undefined, 'command: the image ENTRYPOINT is the binary');
  const args = [...(m.container.args ?? [])];
  const root = mkdtempSync(join(tmpdir(), 'badges-health-k8s-'));
  try {
    const mounted = mountedFiles(m);
    for (const [path, { content }] of mounted) {
      const target = join(root, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, files[path] ?? content);
    }
    for (const name of Object.keys(env)) {
      if (PATH_VARIABLES.test(name) && env[name].startsWith('/')) {
        env[name] = join(root, env[name]);
        mkdirSync(dirname(env[name]), { recursive: true });
      }
    }
    for (const name of HARNESS_ENV) {
      if (process.env[name] !== undefined) env[name] = process.env[name];
    }
    const run = spawnSync(binaryPath(), [...args, '--print-config'], {
      env,
      encoding: 'utf8',
      timeout: 15_000,
    });
    if (run.error) throw run.error;
    const effective = run.status === 0 ? JSON.parse(run.stdout) : undefined;
    return { ...run, env, root, mounted, effective };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function acceptedConfig(m) {
  const run = printConfig(m);
  assert.equal(
    run.status,
    0,
    `${m.overlay}: badges-health --print-config refused it (exit ${run.status}): ${run.stderr}`,
  );
  return run;
}

// ---------------------------------------------------------------------------
// Quantities and ports

const SUFFIXES = {
  m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30,
};

function quantity(q, what) {
  const match = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(String(q));
  assert.ok(match && (match[2] === '' || match[2] in SUFFIXES), `${what}: cannot read ${q}`);
  return Number(match[1]) * (match[2] ? SUFFIXES[match[2]] : 1);
}

function containerPortNumber(container, port, what) {
  assert.ok(port !== undefined, `${what}: no port`);
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p) => p.name === port);
  assert.ok(named, `${what}: '${port}' is not the name of a port of container ${container.name}`);
  return named.containerPort;
}

// The container port a Service port reaches (by number or name).
function serviceTarget(m, servicePort) {
  return containerPortNumber(m.container, servicePort.targetPort ?? servicePort.port,
    `Service port ${servicePort.name}`);
}

// bench/resources.py, one worker thread (README there): 10.6 MiB idle,
// 26.9 MiB with 10,000 idle connections, so about 1.7 KiB each.
const MEASURED_IDLE_BYTES = 10.6 * 2 ** 20;
const MEASURED_BYTES_PER_CONNECTION = 1.7 * 2 ** 10;

// ---------------------------------------------------------------------------
// The checks. Each takes the model and the effective configuration the
// binary printed, and throws an AssertionError naming what is wrong.

const checks = {
  containerPort(m, eff) {
    const port = (m.container.ports ?? []).find((p) => p.containerPort === eff.port);
    assert.ok(port, `no container port is the port the binary listens on (${eff.port})`);
    assert.equal(port.protocol ?? 'TCP', 'TCP');
    for (const other of m.podSpec.containers.filter((c) => c !== m.container)) {
      for (const p of other.ports ?? []) {
        assert.notEqual(p.containerPort, eff.port, `container ${other.name} uses port ${eff.port} too`);
      }
    }
  },

  probes(m, eff) {
    for (const [key, path] of [['startupProbe', '/livez'], ['livenessProbe', '/livez']]) {
      const probe = m.container[key];
      assert.equal(probe?.httpGet?.path, path, `${key}: must be httpGet ${path}`);
    }
    for (const key of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const probe = m.container[key];
      assert.ok(probe?.httpGet, `${key}: must be an httpGet probe`);
      assert.ok(eff.routes.includes(probe.httpGet.path), `${key}: ${probe.httpGet.path} is not served`);
      assert.equal(
        containerPortNumber(m.container, probe.httpGet.port, `${key}.httpGet.port`),
        eff.port,
        `${key}: probes a port the binary does not listen on`,
      );
      assert.equal(probe.httpGet.scheme ?? 'HTTP', 'HTTP', `${key}: the service speaks plain HTTP`);
      assert.ok((probe.timeoutSeconds ?? 1) >= 1, `${key}: timeoutSeconds below 1`);
    }
  },

  // What tells the shapes apart: in the API's pod, readiness follows the
  // checks (/readyz), so a pod whose database is down leaves the API's
  // Service; standalone, it must not (/status has to stay reachable and
  // answer down), so it is /livez.
  readiness(m) {
    const path = m.container.readinessProbe?.httpGet?.path;
    if (m.overlay === 'sidecar') {
      assert.equal(path, '/readyz', 'sidecar: readiness must follow the checks (/readyz)');
      assert.ok(m.podSpec.containers.length > 1, 'sidecar: the pod must hold the API container too');
    } else {
      assert.equal(path, '/livez', 'standalone: readiness must not follow the checks (/livez)');
    }
  },

  drainTiming(m, eff) {
    assert.equal(m.container.lifecycle?.preStop, undefined, 'preStop delays SIGTERM');
    const grace = m.podSpec.terminationGracePeriodSeconds ?? 30;
    assert.ok(
      grace * 1000 > eff.shutdownTimeoutMs,
      `terminationGracePeriodSeconds ${grace} s must exceed the shutdown timeout (${eff.shutdownTimeoutMs} ms)`,
    );
    assert.ok(eff.drainDelayMs < eff.shutdownTimeoutMs, 'drain delay below shutdown timeout');
    const r = m.container.readinessProbe;
    const detectMs = (r.periodSeconds ?? 10) * (r.failureThreshold ?? 3) * 1000;
    assert.ok(
      detectMs < eff.drainDelayMs,
      `readiness notices a failure after up to ${detectMs} ms (periodSeconds x failureThreshold), ` +
        `which must be below the drain delay (${eff.drainDelayMs} ms)`,
    );
  },

  security(m, eff) {
    const pod = m.podSpec.securityContext ?? {};
    const c = m.container.securityContext ?? {};
    const effective = (key) => c[key] ?? pod[key];
    assert.equal(effective('runAsNonRoot'), true, 'runAsNonRoot');
    assert.equal(effective('runAsUser'), m.image.user, `runAsUser must be the Dockerfile's USER`);
    assert.equal(c.readOnlyRootFilesystem, true, 'readOnlyRootFilesystem');
    assert.equal(c.allowPrivilegeEscalation, false, 'allowPrivilegeEscalation');
    assert.notEqual(c.privileged, true, 'privileged');
    assert.ok(c.capabilities?.drop?.includes('ALL'), 'capabilities.drop must include ALL');
    assert.deepEqual(c.capabilities?.add ?? [], [], 'capabilities.add');
    assert.equal(effective('seccompProfile')?.type, 'RuntimeDefault', 'seccompProfile');
    assert.equal(m.podSpec.enableServiceLinks, false, 'enableServiceLinks: false');
    assert.equal(m.podSpec.automountServiceAccountToken, false, 'automountServiceAccountToken');
    assert.ok(eff.port >= 1024, `port ${eff.port}: non-root without capabilities cannot bind it`);
  },

  resources(m, eff) {
    const res = m.container.resources ?? {};
    for (const name of ['cpu', 'memory']) {
      assert.ok(res.requests?.[name] !== undefined, `resources.requests.${name} missing`);
      assert.ok(res.limits?.[name] !== undefined, `resources.limits.${name} missing`);
      assert.ok(
        quantity(res.requests[name], name) <= quantity(res.limits[name], name),
        `resources: ${name} request above its limit`,
      );
    }
    const cpuLimit = quantity(res.limits.cpu, 'limits.cpu');
    assert.ok(
      eff.threads <= Math.max(1, Math.ceil(cpuLimit)),
      `${eff.threads} threads for a CPU limit of ${res.limits.cpu} (set BADGES_HEALTH_THREADS)`,
    );
    assert.ok(
      quantity(res.requests.memory, 'requests.memory') >= MEASURED_IDLE_BYTES,
      `requests.memory ${res.requests.memory} is below the measured idle RSS`,
    );
    const needed = MEASURED_IDLE_BYTES + eff.maxConnections * MEASURED_BYTES_PER_CONNECTION;
    assert.ok(
      quantity(res.limits.memory, 'limits.memory') >= needed,
      `limits.memory ${res.limits.memory} is below the measured RSS at ${eff.maxConnections} connections`,
    );
  },

  configMap(m, eff, run) {
    const configPath = containerEnv(m).BADGES_HEALTH_CONFIG;
    assert.ok(configPath, 'BADGES_HEALTH_CONFIG is not set');
    const file = run.mounted.get(configPath);
    assert.ok(file?.kind === 'ConfigMap', `${configPath} is not a file of a mounted ConfigMap`);
    assert.equal(file.mount.readOnly, true, `volumeMount ${file.mount.name} should be readOnly`);
    const declared = JSON.parse(file.content).checks ?? [];
    assert.deepEqual(eff.checks.map((c) => c.name), declared.map((c) => c.name), 'checks loaded');
    // A file check must look where someone can create the file.
    for (const check of declared.filter((c) => c.type === 'file')) {
      const mount = (m.container.volumeMounts ?? [])
        .filter((v) => check.path.startsWith(`${v.mountPath.replace(/\/$/, '')}/`))
        .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      assert.ok(mount, `check ${check.name}: ${check.path} is on the read-only root filesystem`);
      assert.ok(volumeOf(m, mount).emptyDir && !mount.readOnly,
        `check ${check.name}: ${check.path} is not on a writable emptyDir`);
    }
  },

  tokens(m, eff, run) {
    assert.equal(eff.detailsTokenSet, true, 'the details token must be set');
    assert.equal(eff.metricsTokenSet, true, 'the metrics token must be set');
    const env = containerEnv(m);
    for (const name of ['BADGES_HEALTH_DETAILS_TOKEN_FILE', 'BADGES_HEALTH_METRICS_TOKEN_FILE']) {
      const file = run.mounted.get(env[name]);
      assert.ok(file?.kind === 'Secret', `${name}: ${env[name]} is not a file of a mounted Secret`);
      const volume = volumeOf(m, file.mount);
      assert.notEqual(volume.secret.optional, true, `${name}: an optional Secret would start open`);
    }
    assert.ok(eff.addressFile?.startsWith(run.root), 'BADGES_HEALTH_ADDRESS_FILE must be set');
    const addressMount = (m.container.volumeMounts ?? []).find((v) =>
      env.BADGES_HEALTH_ADDRESS_FILE.startsWith(`${v.mountPath}/`));
    assert.ok(addressMount && volumeOf(m, addressMount).emptyDir && !addressMount.readOnly,
      'BADGES_HEALTH_ADDRESS_FILE must be on a writable emptyDir');
  },

  service(m, eff) {
    const spec = m.service.spec ?? {};
    assert.equal(spec.type ?? 'ClusterIP', 'ClusterIP', 'Service type');
    assert.ok(isSubset(spec.selector, m.templateLabels), 'Service selector misses the pods');
    assert.ok(Object.keys(spec.selector ?? {}).length > 0, 'Service without a selector');
    const reaching = (spec.ports ?? []).filter((p) => serviceTarget(m, p) === eff.port);
    assert.equal(reaching.length, 1, 'one Service port must reach the port the binary listens on');
    assert.equal(reaching[0].appProtocol, 'kubernetes.io/h2c',
      'appProtocol: the port speaks HTTP/1.1 and h2c (HTTP/2 with prior knowledge)');
  },

  serviceMonitor(m, eff) {
    const spec = m.serviceMonitor.spec ?? {};
    assert.ok(isSubset(spec.selector?.matchLabels, m.service.metadata.labels),
      'ServiceMonitor selector misses the Service');
    const endpoint = spec.endpoints?.[0];
    const port = (m.service.spec.ports ?? []).find((p) => p.name === endpoint?.port);
    assert.ok(port, `ServiceMonitor endpoint port '${endpoint?.port}' is no port of the Service`);
    assert.equal(serviceTarget(m, port), eff.port, 'ServiceMonitor scrapes another port');
    assert.equal(endpoint.path ?? '/metrics', '/metrics');
    assert.ok(eff.routes.includes('/metrics'));
    const credentials = endpoint.authorization?.credentials;
    const tokenFile = containerEnv(m).BADGES_HEALTH_METRICS_TOKEN_FILE;
    const mounted = mountedFiles(m).get(tokenFile);
    assert.ok(credentials, 'ServiceMonitor: no bearer token (/metrics needs it)');
    assert.equal(endpoint.authorization.type ?? 'Bearer', 'Bearer');
    assert.deepEqual(
      { name: credentials.name, key: credentials.key },
      { name: mounted.source, key: mounted.key },
      'ServiceMonitor and pods must use the same Secret key for the metrics token',
    );
  },

  standaloneObjects(m) {
    if (m.overlay !== 'standalone') return;
    const [pdb] = m.byKind('PodDisruptionBudget');
    const [hpa] = m.byKind('HorizontalPodAutoscaler');
    assert.ok(pdb && hpa, 'standalone: a PodDisruptionBudget and a HorizontalPodAutoscaler');
    assert.ok(isSubset(pdb.spec.selector?.matchLabels, m.templateLabels), 'PDB selector misses pods');
    assert.ok(Number.isInteger(pdb.spec.maxUnavailable) && pdb.spec.maxUnavailable >= 1);
    assert.deepEqual(
      { ...hpa.spec.scaleTargetRef },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: m.deployment.metadata.name },
      'HorizontalPodAutoscaler must scale the Deployment',
    );
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.minReplicas <= hpa.spec.maxReplicas);
    assert.ok(m.container.resources?.requests?.cpu, 'CPU utilisation needs a CPU request');
  },

  // In: the service port. Out: DNS and every dependency the checks reach.
  networkPolicy(m, eff, run) {
    const policies = m.byKind('NetworkPolicy');
    if (m.overlay === 'sidecar') {
      assert.equal(policies.length, 0, 'sidecar: a policy would isolate the API pods');
      return;
    }
    assert.equal(policies.length, 1, 'standalone: one NetworkPolicy');
    const spec = policies[0].spec;
    assert.ok(isSubset(spec.podSelector?.matchLabels, m.templateLabels), 'policy selects no pod');
    assert.deepEqual([...spec.policyTypes].sort(), ['Egress', 'Ingress']);
    const ingressPorts = spec.ingress.flatMap((r) => r.ports ?? []);
    assert.ok(
      ingressPorts.some((p) => containerPortNumber(m.container, p.port, 'ingress port') === eff.port),
      'ingress does not admit the service port',
    );
    const egressPorts = spec.egress.flatMap((r) => (r.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`));
    assert.ok(egressPorts.includes('UDP/53'), 'egress: DNS (UDP 53)');
    const declared = JSON.parse(run.mounted.get(containerEnv(m).BADGES_HEALTH_CONFIG).content).checks;
    for (const check of declared) {
      let port;
      if (check.type === 'tcp' || check.type === 'redis') port = check.port ?? 6379;
      if (check.type === 'http') {
        const url = new URL(check.url);
        port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      }
      if (check.type === 'postgres') port = 5432;
      if (port === undefined) continue;
      assert.ok(egressPorts.includes(`TCP/${port}`), `egress does not allow check ${check.name} (TCP ${port})`);
    }
  },

  version(m, eff) {
    const tag = m.container.image.split(':').pop();
    assert.equal(eff.version, tag, 'CURRENT_VERSION (as the binary reports it) != image tag');
    assert.equal(m.templateLabels[VERSION_LABEL], tag, `pod label ${VERSION_LABEL} != image tag`);
  },
};

// ---------------------------------------------------------------------------
// Shared state, computed once

const rendered = new Map();
function objectsOf(overlay) {
  if (!rendered.has(overlay)) rendered.set(overlay, kustomize(join(deployDir, 'overlays', overlay)));
  return rendered.get(overlay);
}
const models = new Map();
function model(overlay) {
  if (!models.has(overlay)) models.set(overlay, buildModel(overlay, objectsOf(overlay)));
  return models.get(overlay);
}
const runs = new Map();
function accepted(overlay) {
  if (!runs.has(overlay)) runs.set(overlay, acceptedConfig(model(overlay)));
  return runs.get(overlay);
}

// ---------------------------------------------------------------------------
// Tests

for (const overlay of OVERLAYS) {
  test(`${overlay}: every object is a Kubernetes object the real schemas accept`, async () => {
    const objects = objectsOf(overlay);
    const ids = new Set();
    for (const obj of objects) {
      const id = objectKey(obj);
      assert.ok(!ids.has(id), `${id} twice`);
      ids.add(id);
      assert.ok(obj.metadata?.labels?.[NAME_LABEL], `${id}: label ${NAME_LABEL}`);
      assert.equal(obj.metadata?.namespace, undefined, `${id}: the namespace is the user's choice`);
      await validateSchema(obj);
    }
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['ConfigMap', 'Deployment', 'Service', 'ServiceMonitor', 'PrometheusRule']) {
      assert.ok(kinds.has(kind), `${overlay}: no ${kind}`);
    }
  });

  test(`${overlay}: kubectl kustomize, where installed, builds the same objects`, (t) => {
    const real = kubectlKustomize(join(deployDir, 'overlays', overlay));
    if (real === undefined) {
      t.skip('kubectl is not installed: the overlay is rendered by this test alone');
      return;
    }
    const byKey = (list) => Object.fromEntries(list.map((o) => [objectKey(o), o]));
    assert.deepEqual(byKey(real), byKey(objectsOf(overlay)));
  });

  test(`${overlay}: the binary accepts the container's environment, mounts and checks`, () => {
    const run = accepted(overlay);
    assert.equal(run.effective.logFormat, 'json');
    assert.equal(run.effective.threads, Number(run.env.BADGES_HEALTH_THREADS));
  });

  for (const [name, check] of Object.entries(checks)) {
    test(`${overlay}: manifest check ${name}`, () => {
      const run = accepted(overlay);
      check(model(overlay), run.effective, run);
    });
  }
}

test('a broken environment value is refused by the binary (exit 2, naming it)', () => {
  const run = printConfig(model('standalone'), { envOverride: { HTTP_SERVER_PORT: 'abc' } });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /HTTP_SERVER_PORT/);
});

test('a missing token file is refused by the binary, naming the variable', () => {
  const m = model('standalone');
  const run = printConfig(m, {
    envOverride: { BADGES_HEALTH_METRICS_TOKEN_FILE: '/run/secrets/badges-health/nope' },
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /BADGES_HEALTH_METRICS_TOKEN_FILE=/);
});

test('a broken checks file in the ConfigMap is refused by the binary, naming the field', () => {
  const m = model('standalone');
  const path = containerEnv(m).BADGES_HEALTH_CONFIG;
  const content = JSON.parse(mountedFiles(m).get(path).content);
  content.checks[1].timeout = content.checks[1].interval;
  const run = printConfig(m, { files: { [path]: JSON.stringify(content) } });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /checks\[1\]\.timeout: must be less than interval/);
});

// ---------------------------------------------------------------------------
// Alerts: promtool, and metric names the binary really exports.

function promtool(args, cwd) {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (run.error?.code === 'ENOENT') {
    assert.fail('promtool not found: scripts/install-deps --test installs it (Debian prometheus)');
  }
  return run;
}

function rulesOf(overlay) {
  return model(overlay).prometheusRule.spec;
}

// The rules as a Prometheus rule file, beside a copy of the unit tests.
function withRuleFiles(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'badges-health-rules-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), stringifyYaml(rulesOf('standalone')));
    copyFileSync(promtoolTests, join(dir, 'alerts.promtool.yaml'));
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('both overlays carry the same alert rules', () => {
  assert.deepEqual(rulesOf('sidecar'), rulesOf('standalone'));
  const alerts = rulesOf('standalone').groups.flatMap((g) => g.rules.map((r) => r.alert));
  for (const name of ['BadgesHealthDown', 'BadgesHealthDegraded', 'BadgesHealthCheckFlapping',
    'BadgesHealthTargetAbsent']) {
    assert.ok(alerts.includes(name), `no alert ${name}`);
  }
});

test('promtool check rules accepts the alert rules', () => {
  withRuleFiles((dir) => {
    const run = promtool(['check', 'rules', 'rules.yaml'], dir);
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });
});

test('promtool test rules: the alerts fire when they should and only then', () => {
  withRuleFiles((dir) => {
    const run = promtool(['test', 'rules', 'alerts.promtool.yaml'], dir);
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });
});

function get(port, path) {
  return new Promise((resolvePromise, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolvePromise({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

// The metric families the binary exports with a check configured.
async function exportedMetrics() {
  const dir = mkdtempSync(join(tmpdir(), 'badges-health-metrics-'));
  const checksFile = join(dir, 'checks.json');
  writeFileSync(checksFile, JSON.stringify({
    checks: [{ name: 'maintenance', type: 'file', path: join(dir, 'absent'), when: 'absent' }],
  }));
  const env = { PATH: process.env.PATH };
  for (const name of HARNESS_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  const proc = spawn(binaryPath(), ['--host', '127.0.0.1', '--port', '0', '--config', checksFile,
    '--drain-delay', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const port = await new Promise((resolvePromise, reject) => {
      let log = '';
      proc.stderr.on('data', (d) => {
        log += d;
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
        if (match) resolvePromise(Number(match[1]));
      });
      proc.on('exit', (code) => reject(new Error(`exited ${code}: ${log}`)));
    });
    const res = await get(port, '/metrics');
    assert.equal(res.status, 200);
    return new Set([...res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]));
  } finally {
    proc.kill('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the alert rules name only metrics the binary exports', async () => {
  const exported = await exportedMetrics();
  assert.ok(exported.has('badges_health_status'), `unexpected /metrics: ${[...exported]}`);
  for (const rule of rulesOf('standalone').groups.flatMap((g) => g.rules)) {
    const names = new Set(rule.expr.match(/\bbadges_health_[a-z_]+\b/g) ?? []);
    for (const name of names) {
      assert.ok(exported.has(name),
        `${rule.alert}: ${name} is not a metric the binary exports`);
    }
  }
});

// ---------------------------------------------------------------------------
// Mutations: each breaks a copy of an overlay's objects; the named check
// must then fail.

const deploymentOf = (objs) => objs.find((o) => o.kind === 'Deployment');
const containerOf = (objs) =>
  deploymentOf(objs).spec.template.spec.containers.find((c) => c.name === NAME);
const kindOf = (objs, k) => objs.find((o) => o.kind === k);

const MUTATIONS = [
  ['standalone', 'readiness', 'standalone readiness following the checks', (o) => {
    containerOf(o).readinessProbe.httpGet.path = '/readyz';
  }],
  ['sidecar', 'readiness', 'sidecar readiness not following the checks', (o) => {
    containerOf(o).readinessProbe.httpGet.path = '/livez';
  }],
  ['sidecar', 'containerPort', 'sidecar on the API container\'s port', (o) => {
    deploymentOf(o).spec.template.spec.containers[0].ports[0].containerPort = 8081;
  }],
  ['standalone', 'drainTiming', 'grace period below the shutdown timeout', (o) => {
    deploymentOf(o).spec.template.spec.terminationGracePeriodSeconds = 15;
  }],
  ['sidecar', 'drainTiming', 'readiness too slow for the drain delay', (o) => {
    Object.assign(containerOf(o).readinessProbe, { periodSeconds: 10, failureThreshold: 3 });
  }],
  ['standalone', 'probes', 'liveness on a path that is not served', (o) => {
    containerOf(o).livenessProbe.httpGet.path = '/healthz';
  }],
  ['sidecar', 'probes', 'startup probe on the API\'s port', (o) => {
    containerOf(o).startupProbe.httpGet.port = 'http';
  }],
  ['standalone', 'security', 'runAsUser root', (o) => {
    containerOf(o).securityContext.runAsUser = 0;
  }],
  ['standalone', 'security', 'service links on', (o) => {
    deploymentOf(o).spec.template.spec.enableServiceLinks = true;
  }],
  ['standalone', 'resources', 'memory limit below the measured 10,000-connection RSS', (o) => {
    containerOf(o).resources.limits.memory = '24Mi';
  }],
  ['standalone', 'tokens', 'optional token Secret', (o) => {
    deploymentOf(o).spec.template.spec.volumes.find((v) => v.secret).secret.optional = true;
  }],
  ['standalone', 'service', 'appProtocol http', (o) => {
    kindOf(o, 'Service').spec.ports[0].appProtocol = 'http';
  }],
  ['sidecar', 'service', 'Service selecting the standalone pods', (o) => {
    kindOf(o, 'Service').spec.selector[NAME_LABEL] = NAME;
  }],
  ['sidecar', 'serviceMonitor', 'ServiceMonitor on the Service\'s old port name', (o) => {
    kindOf(o, 'ServiceMonitor').spec.endpoints[0].port = 'http';
  }],
  ['standalone', 'serviceMonitor', 'ServiceMonitor with another Secret key', (o) => {
    kindOf(o, 'ServiceMonitor').spec.endpoints[0].authorization.credentials.key = 'details-token';
  }],
  ['standalone', 'networkPolicy', 'egress without the database port', (o) => {
    const rule = kindOf(o, 'NetworkPolicy').spec.egress[1];
    rule.ports = rule.ports.filter((p) => p.port !== 5432);
  }],
  ['standalone', 'standaloneObjects', 'autoscaler targets another Deployment', (o) => {
    kindOf(o, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name = 'other';
  }],
  ['standalone', 'configMap', 'maintenance file on the read-only root', (o) => {
    const cm = kindOf(o, 'ConfigMap');
    cm.data['checks.json'] = cm.data['checks.json'].replace('/run/badges-health/maintenance',
      '/var/maintenance');
  }],
];

test('the manifest checks fail on broken manifests', async (t) => {
  for (const [overlay, checkName, what, mutate] of MUTATIONS) {
    await t.test(`${overlay}: ${checkName} catches: ${what}`, () => {
      const copy = structuredClone(objectsOf(overlay));
      mutate(copy);
      const m = buildModel(overlay, copy);
      const run = printConfig(m);
      const eff = run.status === 0 ? run.effective : accepted(overlay).effective;
      assert.throws(() => checks[checkName](m, eff, run), assert.AssertionError);
    });
  }
});

test('the renderer refuses what it does not implement, and patches as RFC 6902 says', () => {
  const doc = { a: { list: [1, 3], 'x/y': 1 } };
  applyJsonPatch(doc, [
    { op: 'add', path: '/a/list/1', value: 2 },
    { op: 'add', path: '/a/list/-', value: 4 },
    { op: 'replace', path: '/a/x~1y', value: 2 },
    { op: 'remove', path: '/a/list/0' },
  ], 'test');
  assert.deepEqual(doc, { a: { list: [2, 3, 4], 'x/y': 2 } });
  assert.throws(() => applyJsonPatch(doc, [{ op: 'replace', path: '/a/none', value: 1 }], 't'),
    assert.AssertionError);
  const dir = mkdtempSync(join(tmpdir(), 'badges-health-kustomize-'));
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources: []\nnamePrefix: x-\n');
    assert.throws(() => kustomize(dir), /namePrefix/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(existsSync(promtoolTests), 'alerts.promtool.yaml is missing');
});
