import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { root } from '../../scripts/lib.mjs';

export const KUSTOMIZE_DIR = path.join(root, 'deploy', 'kubernetes');
export const OVERLAYS = ['dev', 'production', 'gpu'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** Whether a command is on PATH (the tests that need it skip, saying so, when it is not). */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** A rendered manifest, loosely typed: tests read fields by path and assert on them. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

/** `kubectl kustomize` of one overlay, as objects. */
export async function render(overlay: Overlay): Promise<K8sObject[]> {
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', path.join(KUSTOMIZE_DIR, 'overlays', overlay)], { maxBuffer: 16 << 20 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject);
}

/** Each kind Spotter ships, with its model (run-time schema) and its TypeScript interface. */
const MODELS: Record<string, { model: new (data: any) => { validate(): void }; module: string; type: string }> = {
  'v1/Namespace': { model: Namespace, module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy, module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy', type: 'INetworkPolicy' },
  'keda.sh/v1alpha1/ScaledObject': { model: ScaledObject, module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', type: 'IScaledObject' },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    model: ServiceMonitor,
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    type: 'IServiceMonitor',
  },
};

export const kindKey = (o: K8sObject) => `${o.apiVersion}/${o.kind}`;
export const knownKind = (o: K8sObject) => kindKey(o) in MODELS;

/** Schema errors of one object (types, required fields, enums, formats); [] when valid. */
export function schemaErrors(o: K8sObject): string[] {
  try {
    new MODELS[kindKey(o)]!.model(o).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/**
 * Unknown fields, which the JSON schemas let through (the API server's strict field
 * validation would refuse them, or worse, ignore them): each object becomes an object
 * literal typed with its model's interface, and the compiler's excess-property check names
 * every misspelt or misplaced field.
 */
export function unknownFields(objects: K8sObject[]): string[] {
  const file = path.join(root, 'test', 'deploy', '__rendered__.ts');
  const starts: number[] = [];
  let src = '';
  objects.forEach((o, i) => {
    const { module, type } = MODELS[kindKey(o)]!;
    starts.push(src.split('\n').length - 1);
    src += `import type { ${type} as T${i} } from '${module}';\nexport const o${i}: T${i} = ${JSON.stringify(o, null, 1)};\n`;
  });
  const host = ts.createCompilerHost({});
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, src, lang) : read(f, lang, ...rest));
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  return ts.getPreEmitDiagnostics(ts.createProgram([file], options, host)).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const o = objects[starts.findLastIndex((s) => s <= line)];
    return `${o ? `${o.kind}/${o.metadata.name}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

export const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
export const named = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
};

/** Whether a matchLabels-style selector selects these labels. */
export const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  Boolean(selector && Object.keys(selector).length) && Object.entries(selector!).every(([k, v]) => labels?.[k] === v);

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
}

export const containersOf = (d: K8sObject): Container[] => d.spec.template.spec.containers;

/** The container port a probe or Service names (by name or number). */
export function containerPort(c: Container, port: string | number): number | undefined {
  return typeof port === 'number' ? c.ports?.find((p) => p.containerPort === port)?.containerPort : c.ports?.find((p) => p.name === port)?.containerPort;
}

/**
 * The environment a container starts with: its ConfigMaps' data, then its own env entries;
 * Secret values from `secrets` (name -> key -> value), or `placeholder(key)` when the
 * overlay leaves the Secret to the cluster. Optional keys that are absent are left unset.
 */
export function containerEnv(objects: K8sObject[], c: Container, placeholder?: (key: string) => string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, named(objects, 'ConfigMap', from.configMapRef.name).data);
    if (from.secretRef) throw new Error('secretRef: list Secret keys one by one so that each is checked');
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) continue;
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
    const value = secret ? secret.data?.[ref.key] && Buffer.from(secret.data[ref.key]!, 'base64').toString('utf8') : ref.optional ? undefined : placeholder?.(ref.key);
    if (value !== undefined) env[e.name] = value;
    else if (!ref.optional) throw new Error(`${c.name}: ${e.name} needs key ${ref.key} of Secret ${ref.name}`);
  }
  return env;
}

/** The metric selectors of a PromQL expression: name and label matchers. */
export function selectorsOf(expr: string) {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)].map(([, name, body]) => ({
    name: name!,
    matchers: [...body!.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map(([, label, op, value]) => ({ label: label!, op: op!, value: value! })),
  }));
}
