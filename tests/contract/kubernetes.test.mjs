// Checks deploy/kubernetes against the real binary.
//
// Every YAML document there must be a Kubernetes object. The Deployment's
// container environment (plus the image's own ENV from the Dockerfile) and its
// args are run through `badges-health --print-config` with the ConfigMap's
// files written to a temporary directory laid out like the container's mounts,
// so the binary validates the manifest's flags and the example checks exactly
// as it would at start-up. The probes, ports, drain timing, security context,
// resources and the Service/PodDisruptionBudget/HorizontalPodAutoscaler
// references are then checked against the effective configuration it prints.
//
//   cd tests/contract && BADGES_HEALTH_BINARY=../../build/test/badges-health \
//     node --test kubernetes.test.mjs
//
// The last tests break copies of the manifests in memory and expect each
// check to fail, so a check that can no longer fail is noticed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const manifestDir = join(repoRoot, 'deploy', 'kubernetes');
const dockerfilePath = join(repoRoot, 'Dockerfile');

const NAME = 'badges-health';
const NAME_LABEL = 'app.kubernetes.io/name';
const VERSION_LABEL = 'app.kubernetes.io/version';
const EXPECTED_KINDS = [
  'ConfigMap',
  'Deployment',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'Service',
];

// ---------------------------------------------------------------------------
// Inputs

function binaryPath() {
  const path = process.env.BADGES_HEALTH_BINARY;
  if (!path) {
    throw new Error(
      'BADGES_HEALTH_BINARY is not set: point it at a badges-health build that has ' +
        '--print-config, e.g. BADGES_HEALTH_BINARY=../../build/test/badges-health ' +
        'node --test kubernetes.test.mjs',
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

function yamlFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

// Every document of every YAML file, parsed the way Kubernetes reads YAML
// (YAML 1.1: an unquoted `on` or `yes` is a boolean there, not a string).
function loadManifests() {
  const files = yamlFiles(manifestDir);
  const objects = [];
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' });
    docs.forEach((doc, i) => {
      const where = `${relative(repoRoot, file)} (document ${i + 1})`;
      const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
      if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
      const obj = doc.toJS();
      if (obj === null || obj === undefined) return; // an empty document, e.g. after `---`
      objects.push({ where, file, obj });
    });
  }
  return { files, objects };
}

// The final stage of the Dockerfile: ARG defaults, ENV, USER, ENTRYPOINT.
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
        if (rest.includes('=')) {
          for (const [, k, v] of rest.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
            env[k] = substitute(unquote(v));
          }
        } else {
          const [, k, v] = /^(\w+)\s+(.*)$/.exec(rest);
          env[k] = substitute(v);
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
  // ARGs before the first FROM are global (their defaults); then the final stage.
  lines.slice(0, firstFrom).forEach(apply);
  lines.slice(lastFrom + 1).forEach(apply);
  assert.ok(user !== undefined, 'Dockerfile: no USER in the final stage');
  assert.match(
    user,
    /^\d+$/,
    `Dockerfile: USER ${user} must be numeric for the kubelet to verify runAsNonRoot`,
  );
  return { user: Number(user), env, entrypoint };
}

// ---------------------------------------------------------------------------
// The model: the objects and the derived container environment.

function labelsOf(obj) {
  return obj?.metadata?.labels ?? {};
}

function isSubset(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

// Kubernetes' $(VAR) expansion in env values and args; $$ escapes.
function expandRefs(value, env) {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) =>
    m === '$$' ? '$' : (env[name] ?? m),
  );
}

function buildModel(objects) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const only = (kind) => {
    const list = byKind(kind);
    assert.equal(list.length, 1, `expected exactly one ${kind}, found ${list.length}`);
    return list[0];
  };
  const deployment = only('Deployment');
  const podSpec = deployment.spec?.template?.spec;
  assert.ok(podSpec, 'Deployment: spec.template.spec missing');
  const container = (podSpec.containers ?? []).find((c) => c.name === NAME);
  assert.ok(container, `Deployment: no container named ${NAME}`);
  return {
    objects,
    deployment,
    podSpec,
    container,
    templateLabels: labelsOf(deployment.spec.template),
    service: only('Service'),
    pdb: only('PodDisruptionBudget'),
    hpa: only('HorizontalPodAutoscaler'),
    configMaps: byKind('ConfigMap'),
    image: readDockerfile(),
  };
}

function findConfigMap(m, name) {
  return m.configMaps.find((c) => c.metadata?.name === name);
}

// The container's environment as the kubelet builds it: the image's ENV,
// then envFrom, then env (later entries win). Values that come from the
// cluster (fieldRef, resourceFieldRef, secretKeyRef) get placeholders.
function containerEnv(m) {
  const defined = {};
  for (const src of m.container.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    if (src.configMapRef) {
      const cm = findConfigMap(m, src.configMapRef.name);
      if (!cm && src.configMapRef.optional) continue;
      assert.ok(cm, `envFrom: ConfigMap ${src.configMapRef.name} is not in deploy/kubernetes`);
      for (const [k, v] of Object.entries(cm.data ?? {})) defined[prefix + k] = v;
    } else {
      assert.fail('envFrom: only configMapRef is supported here (list Secret keys under env)');
    }
  }
  const seen = new Set();
  for (const e of m.container.env ?? []) {
    assert.ok(!seen.has(e.name), `env ${e.name} is listed twice`);
    seen.add(e.name);
    const from = e.valueFrom;
    if (!from) {
      const value = e.value ?? '';
      assert.equal(
        typeof value,
        'string',
        `env ${e.name}: Kubernetes needs a string value, got ${JSON.stringify(value)} (quote it)`,
      );
      defined[e.name] = expandRefs(value, defined);
    } else if (from.fieldRef) {
      defined[e.name] = `placeholder-${from.fieldRef.fieldPath}`;
    } else if (from.resourceFieldRef) {
      defined[e.name] = '1';
    } else if (from.secretKeyRef) {
      defined[e.name] = `placeholder-${from.secretKeyRef.name}-${from.secretKeyRef.key}`;
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const value = findConfigMap(m, ref.name)?.data?.[ref.key];
      if (value === undefined && ref.optional) continue;
      assert.ok(value !== undefined, `env ${e.name}: ConfigMap ${ref.name} has no key ${ref.key}`);
      defined[e.name] = value;
    } else {
      assert.fail(`env ${e.name}: unsupported valueFrom ${JSON.stringify(from)}`);
    }
  }
  return { ...m.image.env, ...defined };
}

function resolveVolumeMount(m, mount) {
  const volume = (m.podSpec.volumes ?? []).find((v) => v.name === mount.name);
  assert.ok(volume, `volumeMount ${mount.name}: no volume of that name in the pod`);
  return volume;
}

// Files the container sees from ConfigMap volumes: container path ->
// { configMap, key, mountPath }.
function configMapFiles(m) {
  const files = new Map();
  for (const mount of m.container.volumeMounts ?? []) {
    const volume = resolveVolumeMount(m, mount);
    if (!volume.configMap) continue;
    const cm = findConfigMap(m, volume.configMap.name);
    assert.ok(
      cm,
      `volume ${volume.name}: ConfigMap ${volume.configMap.name} is not in deploy/kubernetes`,
    );
    const entries = volume.configMap.items
      ? volume.configMap.items.map((i) => [i.path, i.key])
      : Object.keys(cm.data ?? {}).map((k) => [k, k]);
    for (const [path, key] of entries) {
      const content = cm.data?.[key];
      assert.ok(content !== undefined, `ConfigMap ${cm.metadata.name}: no key ${key}`);
      let target;
      if (mount.subPath) {
        if (path !== mount.subPath) continue;
        target = mount.mountPath;
      } else {
        target = posix.join(mount.mountPath, path);
      }
      files.set(target, { configMap: cm.metadata.name, key, mountPath: mount.mountPath, content });
    }
  }
  return files;
}

// The path the binary reads its checks from: --config in args, else CONFIG_FILE.
function configFileArg(args, env) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') return { path: args[i + 1], index: i + 1, prefix: '' };
    if (args[i].startsWith('--config=')) {
      return { path: args[i].slice('--config='.length), index: i, prefix: '--config=' };
    }
  }
  return env.BADGES_HEALTH_CONFIG === undefined
    ? undefined
    : { path: env.BADGES_HEALTH_CONFIG, env: true };
}

function containerArgs(m, env) {
  const command = m.container.command;
  if (command !== undefined) {
    assert.deepEqual(
      command,
      m.image.entrypoint,
      'Deployment: command differs from the Dockerfile ENTRYPOINT (the binary)',
    );
  }
  return (m.container.args ?? []).map((a) => expandRefs(String(a), env));
}

// Settings of the test harness, not of the container: the sanitizer stages
// of scripts/test collect reports through these.
const HARNESS_ENV = ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'TSAN_OPTIONS'];

function runBinary(args, containerEnvironment) {
  const env = { ...containerEnvironment };
  for (const name of HARNESS_ENV) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  const result = spawnSync(binaryPath(), args, { env, encoding: 'utf8', timeout: 15_000 });
  if (result.error) throw result.error;
  return result;
}

// Runs --print-config with the container's env and args, with every
// ConfigMap file written under a temporary root mirroring the mount paths
// and the config path rewritten into it. `envOverride` and `files` (container
// path -> content) replace values, for the negative tests.
function printConfig(m, { envOverride = {}, files = {} } = {}) {
  const env = { ...containerEnv(m), ...envOverride };
  const args = containerArgs(m, env);
  const root = mkdtempSync(join(tmpdir(), 'badges-health-k8s-'));
  try {
    const mirrored = configMapFiles(m);
    for (const [path, { content }] of mirrored) {
      const target = join(root, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, files[path] ?? content);
    }
    const config = configFileArg(args, env);
    let configFile;
    if (config !== undefined) {
      // Always inside the temporary root: a path that is no ConfigMap file
      // must fail to read, whatever exists on the test machine.
      configFile = join(root, config.path);
      if (config.env) env.BADGES_HEALTH_CONFIG = configFile;
      else args[config.index] = config.prefix + configFile;
    }
    const result = runBinary([...args, '--print-config'], env);
    let effective;
    if (result.status === 0) effective = JSON.parse(result.stdout);
    return { ...result, env, args, configFile, config, mirrored, effective };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function acceptedConfig(m, options) {
  const run = printConfig(m, options);
  assert.equal(
    run.status,
    0,
    `badges-health --print-config rejected the manifest (exit ${run.status}): ${run.stderr.trim()}`,
  );
  return run;
}

// ---------------------------------------------------------------------------
// Quantities ("500m", "64Mi") and ports

const SUFFIXES = {
  m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

function quantity(q, what) {
  const match = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(String(q));
  const known = match && (match[2] === '' || match[2] in SUFFIXES);
  assert.ok(known, `${what}: cannot read quantity ${q}`);
  return Number(match[1]) * (match[2] ? SUFFIXES[match[2]] : 1);
}

// A port given by number or by the name of one of the container's ports.
function containerPortNumber(m, port, what) {
  assert.ok(port !== undefined, `${what}: no port`);
  if (typeof port === 'number') return port;
  const named = (m.container.ports ?? []).find((p) => p.name === port);
  assert.ok(named, `${what}: port '${port}' is not the name of a container port`);
  return named.containerPort;
}

// ---------------------------------------------------------------------------
// The checks. Each takes the model and the effective configuration printed
// by the binary and throws an AssertionError naming what is wrong.

const PROBES = [
  ['startupProbe', '/livez'],
  ['livenessProbe', '/livez'],
  ['readinessProbe', '/readyz'],
];

const checks = {
  containerPort(m, eff) {
    const http = (m.container.ports ?? []).find((p) => p.name === 'http');
    assert.ok(http, 'container: no port named http');
    assert.equal(http.containerPort, eff.port, 'container port http != the port the binary uses');
    assert.equal(http.protocol ?? 'TCP', 'TCP');
  },

  probes(m, eff) {
    for (const [key, path] of PROBES) {
      const probe = m.container[key];
      assert.ok(probe?.httpGet, `${key}: must be an httpGet probe`);
      assert.equal(probe.httpGet.path, path, `${key}: path`);
      const served = eff.routes.includes(probe.httpGet.path);
      assert.ok(served, `${key}: ${probe.httpGet.path} is not served`);
      assert.equal(
        containerPortNumber(m, probe.httpGet.port, `${key}.httpGet.port`),
        eff.port,
        `${key}: probes a port the binary does not listen on`,
      );
      assert.equal(probe.httpGet.scheme ?? 'HTTP', 'HTTP', `${key}: the service speaks plain HTTP`);
      assert.ok((probe.timeoutSeconds ?? 1) >= 1, `${key}: timeoutSeconds must be at least 1`);
      if (key !== 'readinessProbe') {
        assert.equal(probe.successThreshold ?? 1, 1, `${key}: successThreshold must be 1`);
      }
    }
  },

  drainTiming(m, eff) {
    assert.equal(
      m.container.lifecycle?.preStop,
      undefined,
      'preStop hook: it delays SIGTERM, which the timing below does not account for',
    );
    const grace = m.podSpec.terminationGracePeriodSeconds ?? 30;
    assert.ok(
      grace * 1000 > eff.drainDelayMs + eff.shutdownTimeoutMs,
      `terminationGracePeriodSeconds ${grace} s must exceed drain delay + shutdown timeout ` +
        `(${eff.drainDelayMs} + ${eff.shutdownTimeoutMs} ms)`,
    );
    const r = m.container.readinessProbe;
    const detectMs = (r.periodSeconds ?? 10) * (r.failureThreshold ?? 3) * 1000;
    assert.ok(
      detectMs < eff.drainDelayMs,
      `readinessProbe notices the drain after up to ${detectMs} ms ` +
        '(periodSeconds x failureThreshold), which must be below the drain delay ' +
        `(${eff.drainDelayMs} ms) so the pod leaves the endpoints before it stops accepting`,
    );
  },

  security(m, eff) {
    const pod = m.podSpec.securityContext ?? {};
    const c = m.container.securityContext ?? {};
    const effective = (key) => c[key] ?? pod[key];
    assert.equal(effective('runAsNonRoot'), true, 'runAsNonRoot');
    assert.equal(
      effective('runAsUser'),
      m.image.user,
      `runAsUser must be the Dockerfile's USER ${m.image.user}`,
    );
    assert.equal(c.readOnlyRootFilesystem, true, 'readOnlyRootFilesystem');
    assert.equal(c.allowPrivilegeEscalation, false, 'allowPrivilegeEscalation');
    assert.notEqual(c.privileged, true, 'privileged');
    assert.ok(c.capabilities?.drop?.includes('ALL'), 'capabilities.drop must include ALL');
    assert.deepEqual(c.capabilities?.add ?? [], [], 'capabilities.add');
    assert.equal(effective('seccompProfile')?.type, 'RuntimeDefault', 'seccompProfile');
    // Non-root without NET_BIND_SERVICE cannot bind below 1024.
    assert.ok(eff.port >= 1024, `port ${eff.port}: non-root without capabilities cannot bind it`);
  },

  resources(m, eff) {
    const res = m.container.resources ?? {};
    for (const name of ['cpu', 'memory']) {
      const request = res.requests?.[name];
      const limit = res.limits?.[name];
      assert.ok(request !== undefined, `resources.requests.${name} missing`);
      assert.ok(limit !== undefined, `resources.limits.${name} missing`);
      assert.ok(
        quantity(request, `requests.${name}`) <= quantity(limit, `limits.${name}`),
        `resources: ${name} request above its limit`,
      );
    }
    // Without THREADS the binary starts one thread per CPU of the node.
    assert.ok(
      'BADGES_HEALTH_THREADS' in containerEnv(m),
      'env BADGES_HEALTH_THREADS must be set (default: the node\'s CPUs)',
    );
    const cpuLimit = quantity(res.limits.cpu, 'limits.cpu');
    assert.ok(
      eff.threads <= Math.max(1, Math.ceil(cpuLimit)),
      `${eff.threads} threads for a CPU limit of ${res.limits.cpu}`,
    );
    // README, Performance: ~5 MiB idle, ~19 MiB with 10,000 idle connections
    // (~1.4 KiB each). Room for maxConnections at 2 KiB each, plus the base.
    const needed = 5 * 2 ** 20 + eff.maxConnections * 2 * 2 ** 10;
    assert.ok(
      quantity(res.limits.memory, 'limits.memory') >= needed,
      `limits.memory ${res.limits.memory} is too small for ${eff.maxConnections} connections`,
    );
  },

  deploymentSelector(m) {
    const selector = m.deployment.spec.selector?.matchLabels;
    assert.equal(selector?.[NAME_LABEL], NAME, `Deployment selector must include ${NAME_LABEL}`);
    assert.ok(isSubset(selector, m.templateLabels), 'Deployment selector does not match its pods');
  },

  service(m, eff) {
    const spec = m.service.spec ?? {};
    assert.equal(spec.type ?? 'ClusterIP', 'ClusterIP', 'Service type');
    assert.equal(spec.selector?.[NAME_LABEL], NAME, `Service selector must include ${NAME_LABEL}`);
    assert.ok(isSubset(spec.selector, m.templateLabels), 'Service selector misses the pods');
    const port = (spec.ports ?? []).find((p) => p.port === 80);
    assert.ok(port, 'Service: no port 80');
    assert.equal(
      containerPortNumber(m, port.targetPort ?? port.port, 'Service targetPort'),
      eff.port,
      'Service targetPort does not reach the port the binary listens on',
    );
  },

  podDisruptionBudget(m) {
    const spec = m.pdb.spec ?? {};
    const selector = spec.selector?.matchLabels;
    assert.equal(selector?.[NAME_LABEL], NAME, `PDB selector must include ${NAME_LABEL}`);
    assert.ok(isSubset(selector, m.templateLabels), 'PodDisruptionBudget selector misses the pods');
    const minReplicas = Math.min(m.deployment.spec.replicas ?? 1, m.hpa.spec.minReplicas ?? 1);
    if (spec.maxUnavailable !== undefined) {
      assert.ok(
        Number.isInteger(spec.maxUnavailable) && spec.maxUnavailable >= 1,
        'maxUnavailable must be an integer >= 1',
      );
    } else {
      assert.ok(
        Number.isInteger(spec.minAvailable) && spec.minAvailable < minReplicas,
        `minAvailable must be an integer below the ${minReplicas} replicas ` +
          '(or no pod can ever be evicted)',
      );
    }
  },

  horizontalPodAutoscaler(m) {
    const spec = m.hpa.spec ?? {};
    assert.equal(m.hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(
      { ...spec.scaleTargetRef },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: m.deployment.metadata.name },
      'HorizontalPodAutoscaler scaleTargetRef must name the Deployment',
    );
    assert.ok(spec.minReplicas >= 3, 'minReplicas must be at least 3');
    assert.ok(spec.minReplicas <= spec.maxReplicas, 'minReplicas above maxReplicas');
    const replicas = m.deployment.spec.replicas;
    assert.ok(
      replicas >= spec.minReplicas && replicas <= spec.maxReplicas,
      `Deployment replicas ${replicas} outside the autoscaler's range`,
    );
    const cpu = (spec.metrics ?? []).find(
      (x) => x.type === 'Resource' && x.resource?.name === 'cpu',
    );
    assert.equal(cpu?.resource?.target?.type, 'Utilization', 'a CPU utilisation target');
    assert.ok(m.container.resources?.requests?.cpu, 'CPU utilisation needs a CPU request');
  },

  configMap(m, eff, run) {
    assert.ok(run.config, 'neither BADGES_HEALTH_CONFIG nor --config is set');
    const file = run.mirrored.get(run.config.path);
    assert.ok(
      file,
      `config file ${run.config.path} is not a file of a mounted ConfigMap ` +
        `(ConfigMap files: ${[...run.mirrored.keys()].join(', ') || 'none'})`,
    );
    const mounted = posix.join(file.mountPath, file.key);
    assert.equal(mounted, run.config.path, 'ConfigMap mount path + key');
    const mount = m.container.volumeMounts.find((v) => v.mountPath === file.mountPath);
    assert.equal(mount.readOnly, true, `volumeMount ${mount.name} should be readOnly`);
    assert.equal(eff.configFile, run.configFile, 'the binary read another config file');
    const declared = JSON.parse(file.content).checks ?? [];
    assert.deepEqual(
      eff.checks.map((c) => c.name),
      declared.map((c) => c.name),
      'checks the binary loaded',
    );
    // A file check must look where someone can create the file: the root
    // filesystem and ConfigMap mounts are read-only.
    for (const check of declared.filter((c) => c.type === 'file')) {
      const mountFor = (m.container.volumeMounts ?? [])
        .filter((v) => check.path.startsWith(`${v.mountPath.replace(/\/$/, '')}/`))
        .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      assert.ok(mountFor, `check ${check.name}: ${check.path} is on the read-only root filesystem`);
      const volume = resolveVolumeMount(m, mountFor);
      assert.ok(
        volume.emptyDir && !mountFor.readOnly,
        `check ${check.name}: ${check.path} is not on a writable emptyDir mount`,
      );
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

let cached;
function manifests() {
  cached ??= loadManifests();
  return cached;
}
function objects() {
  return manifests().objects.map((o) => o.obj);
}
let modelCache;
function model() {
  modelCache ??= buildModel(objects());
  return modelCache;
}
let runCache;
function accepted() {
  runCache ??= acceptedConfig(model());
  return runCache;
}

// ---------------------------------------------------------------------------
// Tests

test('every YAML document under deploy/kubernetes is a Kubernetes object', () => {
  const { files, objects: docs } = manifests();
  assert.ok(files.length > 0, `no YAML files in ${relative(repoRoot, manifestDir)}`);
  for (const file of files) {
    assert.equal(
      dirname(file),
      manifestDir,
      `${relative(repoRoot, file)}: \`kubectl apply -f deploy/kubernetes/\` ` +
        'does not read subdirectories',
    );
  }
  const names = new Set();
  for (const { where, obj } of docs) {
    assert.equal(typeof obj, 'object', `${where}: not a mapping`);
    assert.ok(typeof obj.apiVersion === 'string' && obj.apiVersion, `${where}: apiVersion missing`);
    assert.ok(typeof obj.kind === 'string' && obj.kind, `${where}: kind missing`);
    const name = obj.metadata?.name;
    assert.ok(typeof name === 'string' && name, `${where}: metadata.name missing`);
    const id = `${obj.kind}/${obj.metadata.name}`;
    assert.ok(!names.has(id), `${where}: ${id} is defined twice`);
    names.add(id);
    assert.equal(labelsOf(obj)[NAME_LABEL], NAME, `${where}: label ${NAME_LABEL}`);
  }
  const kinds = new Set(docs.map(({ obj }) => obj.kind));
  for (const kind of EXPECTED_KINDS) assert.ok(kinds.has(kind), `no ${kind} in deploy/kubernetes`);
});

test('the binary accepts the Deployment environment and the ConfigMap checks', () => {
  const m = model();
  assert.equal(
    m.podSpec.enableServiceLinks,
    false,
    'enableServiceLinks: false (otherwise other Services add variables to the env)',
  );
  const run = accepted();
  const eff = run.effective;
  // The values the manifest sets, as the binary understood them.
  assert.equal(eff.logFormat, 'json');
  assert.equal(eff.threads, Number(run.env.BADGES_HEALTH_THREADS));
  assert.equal(eff.checks.length > 0, true, 'the example checks file declares checks');
  for (const c of eff.checks) {
    assert.ok(c.timeoutMs < c.intervalMs, `check ${c.name}: timeout below interval`);
  }
});

for (const [name, check] of Object.entries(checks)) {
  test(`manifest check: ${name}`, () => {
    const run = accepted();
    check(model(), run.effective, run);
  });
}

test('a broken environment value is refused by the binary (exit 2, naming it)', () => {
  const run = printConfig(model(), { envOverride: { HTTP_SERVER_PORT: 'abc' } });
  assert.equal(run.status, 2, `exit code; stderr: ${run.stderr}`);
  assert.match(run.stderr, /HTTP_SERVER_PORT/);
  assert.equal(run.stdout, '');
});

test('a drain delay not below the shutdown timeout is refused by the binary', () => {
  const envOverride = {
    BADGES_HEALTH_DRAIN_DELAY: '30s',
    BADGES_HEALTH_SHUTDOWN_TIMEOUT: '20s',
  };
  const run = printConfig(model(), { envOverride });
  assert.equal(run.status, 2, `exit code; stderr: ${run.stderr}`);
  assert.match(run.stderr, /drain-delay/);
});

test('a broken checks file in the ConfigMap is refused by the binary, naming the field', () => {
  const m = model();
  const { path } = configFileArg(containerArgs(m, containerEnv(m)), containerEnv(m));
  const content = JSON.parse(configMapFiles(m).get(path).content);
  content.checks[0].timeout = content.checks[0].interval;
  const run = printConfig(m, { files: { [path]: JSON.stringify(content) } });
  assert.equal(run.status, 2, `exit code; stderr: ${run.stderr}`);
  assert.match(run.stderr, /checks\[0\]\.timeout: must be less than interval/);
});

// Each mutation breaks a copy of the manifests; the named check must fail.
const MUTATIONS = [
  ['drainTiming', 'grace period too short', (o) => {
    deployment(o).spec.template.spec.terminationGracePeriodSeconds = 20;
  }],
  ['drainTiming', 'readiness too slow for the drain delay', (o) => {
    Object.assign(container(o).readinessProbe, { periodSeconds: 10, failureThreshold: 3 });
  }],
  ['probes', 'readiness probe on /livez', (o) => {
    container(o).readinessProbe.httpGet.path = '/livez';
  }],
  ['probes', 'liveness probe on a path that is not served', (o) => {
    container(o).livenessProbe.httpGet.path = '/healthz';
  }],
  ['probes', 'startup probe on an unknown port name', (o) => {
    container(o).startupProbe.httpGet.port = 'web';
  }],
  ['containerPort', 'container port differs from HTTP_SERVER_PORT', (o) => {
    container(o).ports[0].containerPort = 9090;
  }],
  ['security', 'runAsUser root', (o) => {
    container(o).securityContext.runAsUser = 0;
  }],
  ['security', 'writable root filesystem', (o) => {
    container(o).securityContext.readOnlyRootFilesystem = false;
  }],
  ['resources', 'no memory limit', (o) => {
    delete container(o).resources.limits.memory;
  }],
  ['service', 'Service targetPort names no container port', (o) => {
    kind(o, 'Service').spec.ports[0].targetPort = 'web';
  }],
  ['service', 'Service selector matches no pod', (o) => {
    kind(o, 'Service').spec.selector[NAME_LABEL] = 'other';
  }],
  ['podDisruptionBudget', 'PodDisruptionBudget selector matches no pod', (o) => {
    kind(o, 'PodDisruptionBudget').spec.selector.matchLabels[NAME_LABEL] = 'other';
  }],
  ['horizontalPodAutoscaler', 'autoscaler targets another Deployment', (o) => {
    kind(o, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name = 'other';
  }],
  ['configMap', 'ConfigMap mounted elsewhere than BADGES_HEALTH_CONFIG', (o) => {
    const mount = container(o).volumeMounts.find((v) => v.mountPath === '/etc/badges-health');
    mount.mountPath = '/etc/other';
  }],
];

function kind(objs, k) {
  return objs.find((o) => o.kind === k);
}
function deployment(objs) {
  return kind(objs, 'Deployment');
}
function container(objs) {
  return deployment(objs).spec.template.spec.containers.find((c) => c.name === NAME);
}

test('the manifest checks fail on broken manifests', async (t) => {
  for (const [checkName, what, mutate] of MUTATIONS) {
    await t.test(`${checkName} catches: ${what}`, () => {
      const copy = structuredClone(objects());
      mutate(copy);
      const m = buildModel(copy);
      // The check itself must fail, whether or not the binary accepts the
      // mutated copy (if it does not, use the original effective config).
      const run = printConfig(m);
      const eff = run.status === 0 ? run.effective : accepted().effective;
      assert.throws(() => checks[checkName](m, eff, run), assert.AssertionError);
    });
  }
});
